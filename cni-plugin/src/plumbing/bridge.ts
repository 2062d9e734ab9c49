// Bridge-mode fallback: one Linux bridge per subnet holding the subnet's
// gateway address, so pods reach each other and their gateway without OVS.
import { run } from "./exec.js";
import { sha256 } from "./hash.js";
import { linkExists } from "./link.js";

function bridgeMac(name: string): string {
  const h = sha256(name);
  return [0x02, ...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/** Creates the bridge if missing; a concurrent ADD creating it too is fine. */
export async function ensureBridge(name: string): Promise<void> {
  if (linkExists(name)) return;
  try {
    // A fixed MAC: otherwise the bridge takes its lowest port's MAC and the
    // result of a repeated ADD would change as pods come and go.
    await run("ip", ["link", "add", "name", name, "address", bridgeMac(name), "type", "bridge"]);
  } catch (e) {
    // `ip` exits 2 for every netlink error: a concurrent ADD that won the race
    // shows in the kernel's state, not in the exit code.
    if (!linkExists(name)) throw e;
  }
}

/** Idempotent host-side lines: gateway address on the bridge, bridge up. */
export function bridgeLines(name: string, gatewayIp: string, prefixLen: number): string[] {
  return [`addr replace ${gatewayIp}/${prefixLen} dev ${name}`, `link set ${name} up`];
}
