// On an OVN-managed br-int a port forwards nothing until ovn-controller has
// bound its logical switch port and installed its flows; it then sets
// external_ids:ovn-installed="true" on the OVS Interface row (ovn-controller(8)).
// ADD returns only after that, as ovn-kubernetes' CNI does, so a pod's first
// packets (and its probes) are not dropped. One `ovs-vsctl wait-until` for
// every interface: it watches the database (no polling loop of ours) and
// returns as soon as the rows match. Loaded by ADD only.
import { ExecError } from "@plasmacloud/common/errors";
import { CniCode, CniError } from "../errors.js";
import { run } from "./exec.js";

export interface Awaited {
  /** OVS interface (host veth or the management port). */
  iface: string;
  /** Its external_ids:iface-id: the NovaNET port / logical switch port. */
  ifaceId: string;
  /** What it is, for the error: "pod port", "management port". */
  what: string;
}

const INSTALLED = "external_ids:ovn-installed=true";

/** Resolves once every interface has ovn-installed; rejects with CNI error 11 naming those that have not after `timeoutMs`. */
export async function waitInstalled(db: string | undefined, ports: readonly Awaited[], timeoutMs: number): Promise<void> {
  if (!ports.length) return;
  const dbArg = db ? [`--db=${db}`] : [];
  // Our deadline (ms, SIGKILL) decides; ovs-vsctl's own --timeout (whole
  // seconds, SIGALRM) only ends it should this process die first.
  const args = [...dbArg, `--timeout=${Math.ceil(timeoutMs / 1000) + 1}`,
    ...ports.flatMap((p, i) => [...(i ? ["--"] : []), "wait-until", "Interface", p.iface, INSTALLED])];
  try {
    await run("ovs-vsctl", args, { timeoutMs });
  } catch (e) {
    if (!(e instanceof ExecError) || (e.reason !== "timeout" && e.exitCode !== null)) throw e;
    const pending = await notInstalled(dbArg, ports);
    const names = pending.map((p) => `${p.what} ${p.iface} (iface-id ${p.ifaceId})`).join(", ");
    throw new CniError(CniCode.TryAgainLater, `OVN did not install flows for ${names || "the port"} within ${timeoutMs} ms`,
      "ovn-controller sets external_ids:ovn-installed on an interface once its logical switch port is bound here; "
      + "check that NovaNET has a logical switch port of that name and that ovn-controller runs (ovs-vsctl get Interface IFACE external_ids)");
  }
}

/** The interfaces still without ovn-installed (all of them if that cannot be read). */
async function notInstalled(dbArg: string[], ports: readonly Awaited[]): Promise<Awaited[]> {
  const args = [...dbArg, "--timeout=5", "--format=json", "--columns=name,external_ids", "--if-exists", "list", "Interface", ...ports.map((p) => p.iface)];
  try {
    // OVSDB JSON: a row is [name, ["map", [[key, value], ...]]]; a missing row is left out.
    const rows = (JSON.parse((await run("ovs-vsctl", args, { timeoutMs: 5000 })).stdout) as { data: [string, [string, [string, string][]]][] }).data;
    const done = new Set(rows.filter(([, ids]) => ids[1].some(([k, v]) => k === "ovn-installed" && v === "true")).map(([name]) => name));
    return ports.filter((p) => !done.has(p.iface));
  } catch {
    return [...ports];
  }
}
