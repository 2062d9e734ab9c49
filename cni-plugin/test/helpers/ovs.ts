// OVS for tests: brought up by the node-stack script (idempotent), addressed
// through its own database socket. br-int belongs to ovn-controller (a port
// forwards only once OVN has a logical port for it: ovn.test.ts); tests of plain
// OVS forwarding make a bridge of their own on the same userspace datapath.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { exec, sh } from "./exec.js";

const repo = new URL("../../..", import.meta.url).pathname;
export const OVSDB = `unix:${process.env.PLASMA_RUN_DIR ?? "/run/plasmacloud-stack"}/ovs/db.sock`;

export function ensureOvs(): void {
  execFileSync("bash", [join(repo, "scripts/node-stack/ovs.sh")], { stdio: ["ignore", "ignore", "inherit"] });
}

export function vsctl(...args: string[]): Promise<string> {
  return sh("ovs-vsctl", `--db=${OVSDB}`, "--timeout=10", ...args);
}

export async function ovsPorts(bridge = "br-int"): Promise<string[]> {
  return (await vsctl("list-ports", bridge)).split("\n").filter(Boolean);
}

export async function ifaceId(port: string): Promise<string> {
  return (await vsctl("get", "Interface", port, "external_ids:iface-id")).trim().replace(/^"|"$/g, "");
}

/** A bridge of the test's own on the userspace datapath (as br-int), forwarding by MAC learning (no OVN). */
export async function addTestBridge(name: string): Promise<void> {
  await vsctl("--may-exist", "add-br", name, "--", "set", "bridge", name, "datapath_type=netdev");
}

export async function delTestBridge(name: string): Promise<void> {
  await exec("ovs-vsctl", [`--db=${OVSDB}`, "--timeout=10", "--if-exists", "del-br", name]);
}

/** The subnet's gateway as an OVS internal port on the host: stands in for OVN's router port. */
export async function addGatewayPort(name: string, cidr: string, bridge: string): Promise<void> {
  await vsctl("--may-exist", "add-port", bridge, name, "--", "set", "Interface", name, "type=internal");
  for (let i = 0; i < 50 && (await exec("ip", ["link", "show", name])).code !== 0; i++) await new Promise((r) => setTimeout(r, 50));
  await sh("ip", "addr", "replace", cidr, "dev", name);
  await sh("ip", "link", "set", name, "up");
}
