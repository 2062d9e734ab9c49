// Cluster IPs and node ports, as the API server's allocators hand them out.
// One pool for all tenants: a cluster IP must name one Service on a node,
// whose rules tell tenants apart by the source pod, not by a per-tenant
// address space; a node port is a port on every node's addresses. What is
// allocated is read from the stored Services, so a deleted Service frees its
// addresses at once and a restarted stand-in needs no second record.
// Dynamic cluster IPs come from the upper band of the range first (the API
// server's static/dynamic split since 1.26), so fixed addresses such as the
// DNS server's 10.96.0.10 stay free for whoever asks for them by name.
import { status } from "@grpc/grpc-js";
import type { Service } from "@plasmacloud/proto/k8shost";
import { ApiError, invalid } from "./authz";
import { HEADLESS } from "./services-validate";

export const DEFAULT_SERVICE_CIDR = "10.96.0.0/16";
export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;

export function parseIPv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const o = m.slice(1).map(Number);
  if (o.some((x, i) => x > 255 || String(x) !== m[i + 1])) return undefined;
  return ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
}

export const formatIPv4 = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");

export interface Cidr {
  base: number;
  bits: number;
  /** Addresses, network and broadcast included. */
  size: number;
}

export function parseCidr(s: string): Cidr {
  const [ip, len] = s.split("/");
  const base = parseIPv4(ip ?? "");
  const bits = Number(len);
  if (base === undefined || !Number.isInteger(bits) || bits < 8 || bits > 30) throw new Error(`'${s}' is not an IPv4 CIDR with a prefix of 8-30`);
  const size = 2 ** (32 - bits);
  if (base % size !== 0) throw new Error(`'${s}' has host bits set`);
  return { base, bits, size };
}

function usedBy(services: Iterable<Service>): { ips: Set<number>; nodePorts: Set<number> } {
  const ips = new Set<number>();
  const nodePorts = new Set<number>();
  for (const s of services) {
    const ip = parseIPv4(s.spec?.clusterIp ?? "");
    if (ip !== undefined) ips.add(ip);
    for (const p of s.spec?.ports ?? []) if (p.nodePort) nodePorts.add(p.nodePort);
  }
  return { ips, nodePorts };
}

const notFree = (field: string, what: string): ApiError => new ApiError(status.INVALID_ARGUMENT, `${field}: ${what} is already allocated`);

/** Gives `svc` (validated) its cluster IP and node ports, or checks the ones it asked for. */
export function allocate(svc: Service, existing: Iterable<Service>, cidr: Cidr): void {
  const s = svc.spec!;
  const used = usedBy(existing);
  if (s.clusterIp !== HEADLESS) {
    if (s.clusterIp) {
      const ip = parseIPv4(s.clusterIp);
      if (ip === undefined) throw invalid("spec.clusterIP", `'${s.clusterIp}' is not an IPv4 address (or "None")`);
      if (ip <= cidr.base || ip >= cidr.base + cidr.size - 1) throw invalid("spec.clusterIP", `${s.clusterIp} is not in the service range ${formatIPv4(cidr.base)}/${cidr.bits}`);
      if (used.ips.has(ip)) throw notFree("spec.clusterIP", s.clusterIp);
    } else {
      const ip = pickIp(cidr, used.ips);
      if (ip === undefined) throw new ApiError(status.RESOURCE_EXHAUSTED, `no free cluster IP in ${formatIPv4(cidr.base)}/${cidr.bits}`);
      s.clusterIp = formatIPv4(ip);
    }
  }
  s.clusterIps = [s.clusterIp];
  if (s.type === "ClusterIP") return;
  const mine = new Map<number, Set<string>>(); // a number may repeat within the Service for another protocol
  s.ports.forEach((p, i) => {
    if (!p.nodePort) return;
    if (p.nodePort < NODE_PORT_RANGE.min || p.nodePort > NODE_PORT_RANGE.max) throw invalid(`spec.ports[${i}].nodePort`, `${p.nodePort} is not in ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`);
    if (used.nodePorts.has(p.nodePort) || mine.get(p.nodePort)?.has(p.protocol)) throw notFree(`spec.ports[${i}].nodePort`, String(p.nodePort));
    mine.set(p.nodePort, (mine.get(p.nodePort) ?? new Set()).add(p.protocol));
  });
  for (const p of s.ports) {
    if (p.nodePort) continue;
    const n = pickNodePort(new Set([...used.nodePorts, ...mine.keys()]));
    if (n === undefined) throw new ApiError(status.RESOURCE_EXHAUSTED, `no free node port in ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`);
    p.nodePort = n;
    mine.set(n, new Set([p.protocol]));
  }
}

/** A random free address, upper band first; network and broadcast never. */
function pickIp(cidr: Cidr, used: Set<number>): number | undefined {
  const usable = cidr.size - 2;
  const offset = Math.min(Math.max(16, Math.floor(usable / 16)), 256);
  return pickFrom(cidr.base + 1 + offset, cidr.base + cidr.size - 2, used) ?? pickFrom(cidr.base + 1, cidr.base + offset, used);
}

const pickNodePort = (used: Set<number>): number | undefined => pickFrom(NODE_PORT_RANGE.min, NODE_PORT_RANGE.max, used);

/** A random free number in [lo, hi]: a random start, then the next free one around. */
function pickFrom(lo: number, hi: number, used: Set<number>): number | undefined {
  if (hi < lo) return undefined;
  const n = hi - lo + 1;
  const start = Math.floor(Math.random() * n);
  for (let i = 0; i < n; i++) {
    const v = lo + ((start + i) % n);
    if (!used.has(v)) return v;
  }
  return undefined;
}
