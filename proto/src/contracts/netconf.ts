// The novanet network config (the object on the plugin's stdin, CNI spec
// "network configuration" plus novanet's keys). The agent writes it for the
// calls it makes itself (CHECK, GC), the node setup writes it into
// containerd's conflist, and the plugin parses and validates it against this
// shape. Keys are snake_case where novanet defines them (the platform's
// convention), camelCase where the CNI spec does.
import { POD_ANNOTATIONS_CAPABILITY } from "./annotations";

export type NovanetMode = "ovs" | "bridge";

export interface NovanetTenantIds {
  org_id?: string;
  project_id?: string;
  subnet_id?: string;
}

export interface NovanetServerConf {
  /** host:port or unix:PATH */
  server_addr: string;
  /** Bearer token file, read per invocation (rotation needs no restart). */
  token_file?: string;
  /** Per-call deadline; default 5000. */
  timeout_ms?: number;
  /** true: TLS with the system CAs. */
  tls?: true | { ca_file?: string; cert_file?: string; key_file?: string; server_name?: string };
}

/**
 * ovs mode on an OVN-managed br-int (ovn-controller binds NovaNET's logical
 * switch ports there): what novanet does beyond plugging the veth.
 */
export interface NovanetOvnConf {
  /** ADD waits this long for ovn-controller to set external_ids:ovn-installed on the port's interface; default 10000. */
  installed_timeout_ms?: number;
  /**
   * The node's management port (host access to pods): an OVS internal port on
   * br-int for a NovaNET port of this subnet (NovaNET's own tenant), made by
   * ADD when missing. `ifname` defaults to nvmp0.
   */
  management?: Required<NovanetTenantIds> & { ifname?: string };
}

export interface ValidAttachment {
  containerID: string;
  ifname: string;
}

export interface NovanetNetConf extends NovanetTenantIds {
  cniVersion: string;
  name: string;
  type: "novanet";
  /** Default "ovs". */
  mode?: NovanetMode;
  /** OVS: the integration bridge (default br-int). Bridge mode: prefix of the per-subnet bridge name (default nvbr). */
  bridge?: string;
  /** ovs-vsctl --db target. */
  ovsdb?: string;
  mtu?: number;
  /** ovs mode: br-int is OVN's; absent for a plain OVS bridge. */
  ovn?: NovanetOvnConf;
  /** Where ADD results are cached; default /var/lib/cni/results. */
  cacheDir?: string;
  logFile?: string;
  novanet: NovanetServerConf;
  capabilities?: Record<string, boolean>;
  /** Per call, from the runtime: overrides the static tenant ids. */
  runtimeConfig?: { novanet?: NovanetTenantIds; [POD_ANNOTATIONS_CAPABILITY]?: Record<string, string> };
  args?: { cni?: { novanet?: NovanetTenantIds } };
  prevResult?: Record<string, unknown>;
  /** GC: the attachments that are still in use. */
  "cni.dev/valid-attachments"?: ValidAttachment[];
}
