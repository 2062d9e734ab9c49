// The node's own address: its InternalIP and every pod's hostIP. node.ip when
// set (the kubelet's --node-ip, checked as the kubelet's validateNodeIP does:
// it must be on one of this host's interfaces), else the address of the
// interface holding the default route (the kubelet's ChooseHostInterface).
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { networkInterfaces, type NetworkInterfaceInfo } from "node:os";
import { CodedError } from "@plasmacloud/common/errors";

type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

/** The canonical text of an address, so fd00::0001 and fd00::1 compare equal. */
export function canonicalIP(ip: string): string {
  return isIP(ip) === 6 ? new URL(`http://[${ip}]`).hostname.slice(1, -1) : ip;
}

const unspecified = (ip: string): boolean => ip === "" || (isIP(ip) !== 0 && (canonicalIP(ip) === "0.0.0.0" || canonicalIP(ip) === "::"));

/** The interface of the lowest-metric default route of a family, from /proc/net/route or ipv6_route. */
export function defaultRouteInterface(family: 4 | 6, read: (path: string) => string = (p) => readFileSync(p, "utf8")): string | undefined {
  let text: string;
  try {
    text = read(family === 4 ? "/proc/net/route" : "/proc/net/ipv6_route");
  } catch {
    return undefined;
  }
  let best: { iface: string; metric: number } | undefined;
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    let iface: string | undefined;
    let metric = NaN;
    if (family === 4 && f[1] === "00000000" && f[7] === "00000000" && (parseInt(f[3] ?? "0", 16) & 1) === 1) {
      [iface, metric] = [f[0], Number(f[6])];
    } else if (family === 6 && f.length >= 10 && /^0{32}$/.test(f[0]!) && f[1] === "00" && f[9] !== "lo" && (parseInt(f[8]!, 16) & 1) === 1) {
      [iface, metric] = [f[9], parseInt(f[5]!, 16)];
    }
    if (iface && (!best || metric < best.metric)) best = { iface, metric };
  }
  return best?.iface;
}

const usable = (a: NetworkInterfaceInfo): boolean => !a.internal && !a.address.toLowerCase().startsWith("fe80:");

/**
 * The default address of a family: the default-route interface's first
 * global one, else any interface's; 127.0.0.1 when the host has nothing else.
 */
export function defaultNodeIP(family: 4 | 6 = 4, ifaces: Interfaces = networkInterfaces(), routeIface = defaultRouteInterface(family)): string {
  const fam = family === 4 ? "IPv4" : "IPv6";
  const onRoute = routeIface ? (ifaces[routeIface] ?? []).find((a) => a.family === fam && usable(a)) : undefined;
  if (onRoute) return onRoute.address;
  for (const list of Object.values(ifaces)) for (const a of list ?? []) if (a.family === fam && usable(a)) return a.address;
  return family === 6 ? defaultNodeIP(4, ifaces) : "127.0.0.1";
}

/**
 * node.ip made the node's address. Unset, 0.0.0.0 or :: pick the default (of
 * that family, as the kubelet does); any other address must be assigned to one
 * of this host's interfaces, else the agent refuses to start.
 */
export function resolveNodeIP(setting: string, ifaces: Interfaces = networkInterfaces(), routeIface?: (family: 4 | 6) => string | undefined): string {
  const route = routeIface ?? ((f: 4 | 6) => defaultRouteInterface(f));
  if (unspecified(setting)) {
    const family = isIP(setting) === 6 ? 6 : 4;
    return defaultNodeIP(family, ifaces, route(family));
  }
  const want = canonicalIP(setting);
  for (const list of Object.values(ifaces)) for (const a of list ?? []) if (canonicalIP(a.address) === want) return want;
  throw new CodedError("InvalidArgument", `config field 'node.ip': ${setting} is not assigned to any of this host's network interfaces that are up`, { field: "node.ip", address: setting });
}
