// Deterministic names of what the plugin creates on the host, so DEL and GC
// find them again from (container id, ifname) or (subnet) alone.
import { createHash } from "node:crypto";

const hex = (s: string): string => createHash("sha256").update(s).digest("hex");

/** "nv" + 12 hex digits: 14 chars, within IFNAMSIZ (15). */
export function hostVethName(containerId: string, ifname: string): string {
  return `nv${hex(`${containerId}/${ifname}`).slice(0, 12)}`;
}

/** One Linux bridge per subnet: different subnets (tenants) never share one. */
export function bridgeName(prefix: string, subnetId: string): string {
  return `${prefix}${hex(subnetId).slice(0, 15 - prefix.length)}`;
}

/** Written to the host veth's ifalias: lets GC find orphans without a cache file. */
export function vethAlias(network: string, containerId: string, ifname: string): string {
  return `novanet:${network}:${containerId}:${ifname}`;
}

export function parseVethAlias(alias: string): { network: string; containerId: string; ifname: string } | undefined {
  const m = /^novanet:([^:]+):([^:]+):([^:]+)$/.exec(alias);
  return m ? { network: m[1] as string, containerId: m[2] as string, ifname: m[3] as string } : undefined;
}
