// `network.novanet.ovn` of the agent's config: novanet in ovs mode on a br-int
// that ovn-controller owns (ADD waits for ovn-installed; the node management
// port gives the host its way to pods). Optional: absent, the netconf has no
// `ovn` block and br-int is a plain OVS bridge. The agent puts the block into
// its own CHECK/GC netconf so that it says what containerd's conflist says.
// config/schema.ts takes the type, shape and checks from here.
import type { CodedError } from "@plasmacloud/common/errors";
import type { NovanetOvnConf } from "@plasmacloud/proto/netconf";

export interface NovanetOvnSettings {
  /** ADD waits this long for ovn-controller's external_ids:ovn-installed on the pod's port (the plugin's default). */
  installedTimeoutMs: number;
  /** The node management port, bound to a NovaNET port in NovaNET's management subnet; absent: none. */
  management?: { orgId: string; projectId: string; subnetId: string; ifname: string };
}

/** The plugin's defaults (cni-plugin/src/config/config.ts parseOvn), filled in for keys a config leaves out. */
export const defaultOvnSettings = (): NovanetOvnSettings => ({ installedTimeoutMs: 10_000 });
export const defaultOvnManagement = (): NonNullable<NovanetOvnSettings["management"]> => ({ orgId: "", projectId: "", subnetId: "", ifname: "nvmp0" });

export const OVN_SHAPE = { installedTimeoutMs: "number" } as const;
export const OVN_MANAGEMENT_SHAPE = { orgId: "string", projectId: "string", subnetId: "string", ifname: "string" } as const;

/** The camelCase settings as the plugin's snake_case netconf block: the one place the two meet. */
export function ovnNetConf(o: NovanetOvnSettings): NovanetOvnConf {
  const m = o.management;
  return {
    installed_timeout_ms: o.installedTimeoutMs,
    ...(m ? { management: { org_id: m.orgId, project_id: m.projectId, subnet_id: m.subnetId, ifname: m.ifname } } : {}),
  };
}

const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

export function validateOvnSettings(o: NovanetOvnSettings | undefined, novanetMode: string, invalid: (field: string, msg: string) => CodedError): void {
  if (o === undefined) return;
  const at = "network.novanet.ovn";
  if (novanetMode !== "ovs") throw invalid(at, `needs network.novanet.mode ovs (OVN runs on an OVS bridge), mode is ${novanetMode}`);
  if (!Number.isInteger(o.installedTimeoutMs) || o.installedTimeoutMs <= 0) throw invalid(`${at}.installedTimeoutMs`, `must be a positive integer, got ${o.installedTimeoutMs}`);
  const m = o.management;
  if (!m) return;
  for (const k of ["orgId", "projectId", "subnetId"] as const) if (!m[k]) throw invalid(`${at}.management.${k}`, "must be set (the management port's NovaNET tenant and subnet)");
  if (!IFNAME.test(m.ifname)) throw invalid(`${at}.management.ifname`, `'${m.ifname}' is not an interface name (1-15 of [A-Za-z0-9_.-])`);
}
