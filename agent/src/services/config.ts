// The `services:` block of the agent's config: whether the node makes
// Services work (kube-proxy's job) and how. Kept here beside the code it
// configures; config/schema.ts takes the type, defaults, shape and checks.
import type { CodedError } from "@plasmacloud/common/errors";
import { parseCidr } from "./ipv4";

export const SERVICES_MODES = ["auto", "nftables", "none"] as const;
export type ServicesMode = (typeof SERVICES_MODES)[number];

export interface ServicesConfig {
  /** auto: nftables when pods are NovaNET's (network.mode novanet), none in runtime mode; nftables; none.
   *  In bridge mode the table is the whole data path; in ovs mode OVN's load balancers serve cluster
   *  IPs to pods and the table serves what arrives at the node (node ports, load-balancer IPs). */
  mode: ServicesMode;
  /** The control plane's service range: traffic into it that no rule took is refused. */
  serviceCIDR: string;
  /** The nftables table (family ip) the agent owns and replaces whole; nothing else may write to it. */
  table: string;
  /** Remove the table when the agent stops (kube-proxy's --cleanup). Off: Services keep
   *  answering while the agent restarts, and the next agent takes the table over. */
  cleanupOnStop: boolean;
  /** Every so often the table is compared with what the agent last wrote (the safety net). */
  syncSeconds: number;
}

export function defaultServicesConfig(): ServicesConfig {
  return { mode: "auto", serviceCIDR: "10.96.0.0/16", table: "k8shost", cleanupOnStop: false, syncSeconds: 30 };
}

export const SERVICES_SHAPE = { mode: "string", serviceCIDR: "string", table: "string", cleanupOnStop: "boolean", syncSeconds: "number" } as const;

const TABLE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;

export function validateServicesConfig(s: ServicesConfig, invalid: (field: string, msg: string) => CodedError): void {
  if (!(SERVICES_MODES as readonly string[]).includes(s.mode)) throw invalid("services.mode", `'${s.mode}' is not one of ${SERVICES_MODES.join(", ")}`);
  try {
    parseCidr(s.serviceCIDR);
  } catch (err) {
    throw invalid("services.serviceCIDR", (err as Error).message);
  }
  if (!TABLE_NAME.test(s.table)) throw invalid("services.table", `'${s.table}' is not a table name (a letter, then letters, digits, '-' or '_', at most 32)`);
  if (!(s.syncSeconds > 0) || !Number.isFinite(s.syncSeconds)) throw invalid("services.syncSeconds", `must be > 0, got ${s.syncSeconds}`);
}

/**
 * What `auto` means on this node: nftables in both NovaNET modes. On Linux
 * bridges every pod's traffic crosses the host's nftables; on OVN it does not,
 * but node ports and load-balancer IPs arrive at the host all the same
 * (Antrea's split: its OVS proxy serves cluster IPs, kube-proxy node ports).
 * In runtime mode the runtime's CNI is on its own.
 */
export function servicesMode(s: ServicesConfig, network: { mode: string }): "nftables" | "none" {
  if (s.mode !== "auto") return s.mode;
  return network.mode === "novanet" ? "nftables" : "none";
}
