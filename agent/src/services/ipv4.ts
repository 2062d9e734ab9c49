// IPv4 addresses and CIDRs, strictly: every address that reaches an nftables
// ruleset passes through here first, so nothing but dotted quads gets in.

/** The address as a 32-bit number, or undefined unless it is a canonical dotted quad. */
export function parseIPv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const o = m.slice(1).map(Number);
  if (o.some((x, i) => x > 255 || String(x) !== m[i + 1])) return undefined;
  return ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
}

export const isIPv4 = (s: string): boolean => parseIPv4(s) !== undefined;

export interface Cidr {
  base: number;
  bits: number;
  text: string;
}

export function parseCidr(s: string): Cidr {
  const [ip, len, ...rest] = s.split("/");
  const base = parseIPv4(ip ?? "");
  const bits = /^\d{1,2}$/.test(len ?? "") ? Number(len) : NaN;
  if (rest.length || base === undefined || !(bits >= 8 && bits <= 30)) throw new Error(`'${s}' is not an IPv4 CIDR with a prefix length of 8-30`);
  if (base % 2 ** (32 - bits) !== 0) throw new Error(`'${s}' has host bits set`);
  return { base, bits, text: `${ip}/${bits}` };
}

export function inCidr(ip: string, c: Cidr): boolean {
  const n = parseIPv4(ip);
  return n !== undefined && Math.floor(n / 2 ** (32 - c.bits)) === Math.floor(c.base / 2 ** (32 - c.bits));
}
