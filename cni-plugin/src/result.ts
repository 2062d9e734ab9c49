// CNI result shapes and their conversion to the version the runtime asked
// for. Internally everything is the 1.1.0 shape; 1.0.0 drops the 1.1-only
// fields and 0.4.0 adds `version` to every IP.

export const SUPPORTED_VERSIONS = ["0.4.0", "1.0.0", "1.1.0"] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];

export function isSupportedVersion(v: unknown): v is CniVersion {
  return typeof v === "string" && (SUPPORTED_VERSIONS as readonly string[]).includes(v);
}

export interface CniInterface { name: string; mac?: string; mtu?: number; sandbox?: string }
export interface CniIp { address: string; gateway?: string; interface?: number; version?: "4" | "6" }
export interface CniRoute { dst: string; gw?: string }
export interface CniDns { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] }

export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIp[];
  routes?: CniRoute[];
  dns?: CniDns;
}

/** Renders an internal (1.1.0-shaped) result in the requested version. */
export function convertResult(r: CniResult, version: CniVersion): CniResult {
  const out: CniResult = { cniVersion: version };
  if (r.interfaces) {
    out.interfaces = r.interfaces.map((i) => {
      const { mtu, ...rest } = i;
      return version === "1.1.0" && mtu !== undefined ? { ...rest, mtu } : rest;
    });
  }
  if (r.ips) {
    out.ips = r.ips.map((ip) => {
      const { version: _v, ...rest } = ip;
      return version === "0.4.0" ? { version: ip.address.includes(":") ? "6" : "4", ...rest } : rest;
    });
  }
  if (r.routes) out.routes = r.routes.map((x) => ({ ...x }));
  if (r.dns && Object.keys(r.dns).length > 0) out.dns = { ...r.dns };
  return out;
}

/** Appends our result to a prevResult from earlier plugins in a chain. */
export function mergeResults(prev: CniResult | undefined, ours: CniResult): CniResult {
  if (!prev) return ours;
  const base = prev.interfaces?.length ?? 0;
  return {
    cniVersion: ours.cniVersion,
    interfaces: [...(prev.interfaces ?? []), ...(ours.interfaces ?? [])],
    ips: [...(prev.ips ?? []), ...(ours.ips ?? []).map((ip) => (ip.interface === undefined ? ip : { ...ip, interface: ip.interface + base }))],
    routes: [...(prev.routes ?? []), ...(ours.routes ?? [])],
    dns: ours.dns ?? prev.dns,
  };
}
