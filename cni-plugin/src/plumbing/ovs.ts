// OVS mode: the host veth becomes a port of the integration bridge with
// external_ids:iface-id=<NovaNET port id>, which is how ovn-controller binds
// a logical port to this chassis.
import { run } from "./exec.js";

function base(db: string | undefined): string[] {
  return [...(db ? [`--db=${db}`] : []), "--timeout=10"];
}

/**
 * `wait` false (--no-wait): return once the database has the port, not after
 * ovs-vswitchd has applied it; for an OVN bridge, whose ovn-installed wait
 * (ovn.ts) comes later and implies it.
 */
export async function addOvsPort(db: string | undefined, bridge: string, veth: string, ifaceId: string, wait = true): Promise<void> {
  await run("ovs-vsctl", [...base(db), ...(wait ? [] : ["--no-wait"]), "--may-exist", "add-port", bridge, veth,
    "--", "set", "Interface", veth, `external_ids:iface-id=${ifaceId}`]);
}

export async function delOvsPort(db: string | undefined, bridge: string, veth: string): Promise<void> {
  await run("ovs-vsctl", [...base(db), "--if-exists", "del-port", bridge, veth]);
}

/** iface-id of an OVS interface, or undefined if the interface is not in OVS or has none. */
export async function ovsIfaceId(db: string | undefined, veth: string): Promise<string | undefined> {
  // --if-exists: a missing row prints nothing and a missing key an empty line (ovs-vsctl(8)), exit 0.
  const { stdout } = await run("ovs-vsctl", [...base(db), "--if-exists", "get", "Interface", veth, "external_ids:iface-id"]);
  const v = stdout.trim();
  return v ? v.replace(/^"|"$/g, "") : undefined;
}

