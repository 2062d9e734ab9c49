// Linux capabilities of this process, from /proc/self/status. Online ext4
// growth needs CAP_SYS_RESOURCE, which some hosts do not grant.
import { readFileSync } from "node:fs";

export const CAP_SYS_RESOURCE = 24;

export function hasCapability(bit: number, statusText?: string): boolean {
  const text = statusText ?? readFileSync("/proc/self/status", "utf8");
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(text);
  if (!m) return false;
  return ((BigInt(`0x${m[1]}`) >> BigInt(bit)) & 1n) === 1n;
}
