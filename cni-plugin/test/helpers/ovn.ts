// OVN for tests: started by the node-stack script (idempotent, after OVS),
// read through ovn-nbctl / ovn-sbctl on its own sockets.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { sh } from "./exec.js";
import { vsctl } from "./ovs.js";

const repo = new URL("../../..", import.meta.url).pathname;
const RUN = `${process.env.PLASMA_RUN_DIR ?? "/run/plasmacloud-stack"}/ovn`;
export const OVN_NB = `unix:${RUN}/ovnnb_db.sock`;
export const OVN_SB = `unix:${RUN}/ovnsb_db.sock`;

export function ensureOvn(): void {
  for (const s of ["ovs.sh", "ovn.sh"]) execFileSync("bash", [join(repo, "scripts/node-stack", s)], { stdio: ["ignore", "ignore", "inherit"] });
}

export function nbctl(...args: string[]): Promise<string> {
  return sh("ovn-nbctl", `--db=${OVN_NB}`, "--timeout=10", ...args);
}

export function sbctl(...args: string[]): Promise<string> {
  return sh("ovn-sbctl", `--db=${OVN_SB}`, "--timeout=10", ...args);
}

/** A column of the one row `find` matches, as ovn-*ctl --bare prints it ("" when none). */
export async function nbGet(table: string, name: string, column: string): Promise<string> {
  return (await nbctl("--bare", `--columns=${column}`, "find", table, `name=${JSON.stringify(name)}`)).trim();
}

/** This node's chassis name: the OVS system-id ovn-controller registers as. */
export async function systemId(): Promise<string> {
  return (await vsctl("get", "Open_vSwitch", ".", "external_ids:system-id")).trim().replace(/^"|"$/g, "");
}

export interface Binding { up: boolean; chassis: string }

/** The logical port's Port_Binding in the southbound db: up, and the name of the chassis it is bound to ("" if none). */
export async function portBinding(logicalPort: string): Promise<Binding | undefined> {
  const rows = (await sbctl("--format=json", "--columns=up,chassis", "find", "Port_Binding", `logical_port=${JSON.stringify(logicalPort)}`));
  const data = (JSON.parse(rows) as { data: unknown[][] }).data;
  const row = data[0];
  if (!row) return undefined;
  // OVSDB JSON: up is ["set", []] when unset or a boolean; chassis ["uuid", U] or ["set", []].
  const up = row[0] === true;
  const ch = row[1] as [string, unknown];
  const chassis = ch[0] === "uuid" ? (await sbctl("--bare", "--columns=name", "list", "Chassis", ch[1] as string)).trim() : "";
  return { up, chassis };
}

/** Waits (deadline, no fixed sleep) until ovn-controller reports every port bound and its flows installed. */
export async function waitBound(ports: string[], timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const bs = await Promise.all(ports.map((p) => portBinding(p)));
    if (bs.every((b) => b?.up)) return;
    if (Date.now() > end) throw new Error(`ports not bound within ${timeoutMs} ms: ${ports.filter((_, i) => !bs[i]?.up).join(", ")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
