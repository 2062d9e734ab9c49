// OVS for tests: brought up by the node-stack script (idempotent), addressed
// through its own database socket.
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

/** The subnet's gateway as an OVS internal port on the host: stands in for OVN's router port. */
export async function addGatewayPort(name: string, cidr: string): Promise<void> {
  await vsctl("--may-exist", "add-port", "br-int", name, "--", "set", "Interface", name, "type=internal");
  for (let i = 0; i < 50 && (await exec("ip", ["link", "show", name])).code !== 0; i++) await new Promise((r) => setTimeout(r, 50));
  await sh("ip", "addr", "replace", cidr, "dev", name);
  await sh("ip", "link", "set", name, "up");
}

export async function delPort(name: string): Promise<void> {
  await exec("ovs-vsctl", [`--db=${OVSDB}`, "--timeout=10", "--if-exists", "del-port", "br-int", name]);
}
