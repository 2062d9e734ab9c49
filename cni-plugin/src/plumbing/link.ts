// Host-side links: existence and MAC via sysfs (no exec), creation of the
// veth pair, deletion, and listing our veths by their alias.
import { existsSync, readFileSync } from "node:fs";
import { run } from "./exec.js";
import { ipJson } from "./ip.js";

export function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

export function linkMac(name: string): string | undefined {
  try {
    return readFileSync(`/sys/class/net/${name}/address`, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** The link's ifalias (sysfs, no exec); undefined if the link is gone. */
export function linkAlias(name: string): string | undefined {
  try {
    return readFileSync(`/sys/class/net/${name}/ifalias`, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** Deletes a link; a link that is already gone is success. */
export async function deleteLink(name: string): Promise<void> {
  if (!linkExists(name)) return;
  try {
    await run("ip", ["link", "del", name]);
  } catch (e) {
    // Gone meanwhile (a concurrent DEL, its netns deleted): the state says so, not the message.
    if (linkExists(name)) throw e;
  }
}

interface IpLink { ifname: string; ifalias?: string; master?: string; operstate?: string; address?: string; mtu?: number }

export function listHostVeths(): Promise<IpLink[]> {
  return ipJson<IpLink[]>(["link", "show", "type", "veth"]);
}

export async function showLink(name: string): Promise<IpLink | undefined> {
  if (!linkExists(name)) return undefined;
  const l = await ipJson<IpLink[]>(["link", "show", "dev", name]);
  return l[0];
}
