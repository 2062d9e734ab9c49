// Per-subnet IPv4 address management for the NovaNET stand-in: the gateway and
// the network/broadcast addresses are never handed out, an address is held by
// at most one port, and a released address becomes free again.
import { createHash } from "node:crypto";

export class IpamError extends Error {
  constructor(readonly kind: "invalid" | "exhausted" | "taken", message: string) {
    super(message);
  }
}

export function ipToInt(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export interface Cidr { network: number; prefix: number; size: number }

export function parseCidr(cidr: string): Cidr | undefined {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m) return undefined;
  const ip = ipToInt(m[1] as string);
  const prefix = Number(m[2]);
  if (ip === undefined || prefix > 30 || prefix < 8) return undefined;
  const size = 2 ** (32 - prefix);
  const network = ip - (ip % size);
  if (network !== ip) return undefined; // host bits set: ambiguous, reject
  return { network, prefix, size };
}

/** Locally administered unicast MAC, stable for (subnet, address). */
export function macFor(subnetId: string, ip: string): string {
  const h = createHash("sha256").update(`${subnetId}/${ip}`).digest();
  const bytes = [0x02, h[0] as number, h[1] as number, h[2] as number, h[3] as number, h[4] as number];
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/** Address pool of one subnet. */
export class SubnetPool {
  private readonly used = new Set<number>();
  private readonly gateway: number;

  constructor(readonly cidr: Cidr, gatewayIp: string) {
    const gw = ipToInt(gatewayIp);
    if (gw === undefined || !this.contains(gw) || !this.isHost(gw)) {
      throw new IpamError("invalid", `gateway_ip ${gatewayIp} is not a host address of the subnet`);
    }
    this.gateway = gw;
  }

  contains(n: number): boolean {
    return n >= this.cidr.network && n < this.cidr.network + this.cidr.size;
  }

  private isHost(n: number): boolean {
    return n > this.cidr.network && n < this.cidr.network + this.cidr.size - 1;
  }

  /** Marks an address used (state reload, or a requested address). */
  claim(ip: string): void {
    const n = ipToInt(ip);
    if (n === undefined || !this.contains(n) || !this.isHost(n)) {
      throw new IpamError("invalid", `ip_address ${ip} is not a host address of the subnet`);
    }
    if (n === this.gateway) throw new IpamError("taken", `ip_address ${ip} is the subnet's gateway`);
    if (this.used.has(n)) throw new IpamError("taken", `ip_address ${ip} is already allocated`);
    this.used.add(n);
  }

  /** Lowest free host address; deterministic, so tests can predict it. */
  allocate(): string {
    for (let n = this.cidr.network + 1; n < this.cidr.network + this.cidr.size - 1; n++) {
      if (n === this.gateway || this.used.has(n)) continue;
      this.used.add(n);
      return intToIp(n);
    }
    throw new IpamError("exhausted", "subnet has no free address");
  }

  release(ip: string): void {
    const n = ipToInt(ip);
    if (n !== undefined) this.used.delete(n);
  }

  get allocated(): number {
    return this.used.size;
  }
}
