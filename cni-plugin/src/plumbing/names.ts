// Deterministic names of what the plugin creates on the host, so DEL and GC
// find them again from (container id, ifname) or (subnet) alone.
import { sha256 } from "./hash.js";

const hex = (s: string): string => sha256(s).toString("hex");

/** "nv" + 12 hex digits: 14 chars, within IFNAMSIZ (15). */
export function hostVethName(containerId: string, ifname: string): string {
  return `nv${hex(`${containerId}/${ifname}`).slice(0, 12)}`;
}

/** One Linux bridge per subnet: different subnets (tenants) never share one. */
export function bridgeName(prefix: string, subnetId: string): string {
  return `${prefix}${hex(subnetId).slice(0, 15 - prefix.length)}`;
}

/** A port id that fits the alias (its fields are ':'-separated); others are left out. */
const PORT_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Written to the host veth's ifalias: lets GC find orphans without a cache
 * file, and DEL release the port by id (one NovaNET call) even after
 * containerd's libcni has overwritten our cache entry with its own.
 */
export function vethAlias(network: string, containerId: string, ifname: string, portId?: string): string {
  const base = `novanet:${network}:${containerId}:${ifname}`;
  return portId && PORT_ID.test(portId) ? `${base}:${portId}` : base;
}

export function parseVethAlias(alias: string): { network: string; containerId: string; ifname: string; portId?: string } | undefined {
  const m = /^novanet:([^:]+):([^:]+):([^:]+)(?::([A-Za-z0-9._-]{1,128}))?$/.exec(alias);
  if (!m) return undefined;
  return { network: m[1] as string, containerId: m[2] as string, ifname: m[3] as string, ...(m[4] ? { portId: m[4] } : {}) };
}
