// Network namespaces for tests, each registered for cleanup so nothing is
// left behind even when an assertion fails midway.
import { existsSync } from "node:fs";
import { exec, sh } from "./exec.js";

let seq = 0;
const made = new Set<string>();

export function nsName(tag: string): string {
  return `nvt-${tag}-${process.pid % 100000}-${seq++}`;
}

export async function createNetns(tag: string): Promise<{ name: string; path: string }> {
  const name = nsName(tag);
  await sh("ip", "netns", "add", name);
  made.add(name);
  await sh("ip", "-n", name, "link", "set", "lo", "up");
  return { name, path: `/var/run/netns/${name}` };
}

export async function deleteNetns(name: string): Promise<void> {
  if (existsSync(`/var/run/netns/${name}`)) await exec("ip", ["netns", "del", name]);
  made.delete(name);
}

export async function deleteAllNetns(): Promise<void> {
  for (const n of [...made]) await deleteNetns(n);
}

export function inNetns(name: string, ...args: string[]): ReturnType<typeof exec> {
  return exec("ip", ["netns", "exec", name, ...args]);
}

export async function ping(ns: string, ip: string): Promise<boolean> {
  const r = await inNetns(ns, "busybox", "ping", "-c", "1", "-W", "2", ip);
  return r.code === 0;
}

/** Removes host veths the plugin made for one network (found by their alias). */
export async function deleteVethsOf(network: string): Promise<void> {
  const r = await exec("ip", ["-j", "link", "show", "type", "veth"]);
  const links = r.code === 0 && r.stdout.trim() ? (JSON.parse(r.stdout) as { ifname: string; ifalias?: string }[]) : [];
  for (const l of links) if (l.ifalias?.startsWith(`novanet:${network}:`)) await exec("ip", ["link", "del", l.ifname]);
}
