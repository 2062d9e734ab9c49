// The agent's configuration: types, defaults and validation. Every error names
// the offending field with its dotted path, and unknown fields are rejected so
// a typo never silently falls back to a default.
import { hostname } from "node:os";
import { CodedError } from "@plasmacloud/common/errors";
import type { Level } from "@plasmacloud/common/log";
import type { NovanetSettings } from "../network/novanet";
import { defaultOvnManagement, defaultOvnSettings, OVN_MANAGEMENT_SHAPE, OVN_SHAPE, validateOvnSettings } from "../network/novanet-ovn";
import { capabilityProblem, unsafeSysctlPatternProblem } from "../pods/linux-names";
import { parseQuantity } from "../resources/quantity";
import { defaultNodeSettings, parseTaints, validateNodeSettings, type NodeSettings } from "./node";
import { defaultServicesConfig, SERVICES_SHAPE, validateServicesConfig, type ServicesConfig } from "../services/config";
import { FS_GROUP_POLICIES, type FSGroupPolicy } from "../volumes/csi/fsgroup";

/** The levels an operator may choose: the shared logger's, without fatal/silent. */
const LOG_LEVELS = ["trace", "debug", "info", "warn", "error"] as const satisfies readonly Level[];
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface AgentConfig {
  nodeName: string;
  nodeLabels: Record<string, string>;
  /** ip: the kubelet's --node-ip (InternalIP and pods' hostIP; "": the default-route address);
   *  taints: --register-with-taints (NoExecute ones refuse pods that do not tolerate them). */
  node: NodeSettings;
  controlPlane: { address: string; tokenFile: string; caFile: string; requestTimeoutSeconds: number };
  /** eventedRelistSeconds: while the runtime's change events flow, the relist runs on them and otherwise
   *  this often (the kubelet's generic relist period under its evented PLEG, 300 s); 0 = no events,
   *  the relist every relistSeconds. */
  runtime: { endpoint: string; requestTimeoutSeconds: number; runtimeHandler: string; relistSeconds: number; eventedRelistSeconds: number };
  rootDir: string;
  podLogsDir: string;
  /** Container log rotation, the kubelet's containerLogMaxSize (a quantity), containerLogMaxFiles
   *  (the live file included, >= 2) and containerLogMonitorInterval (here in seconds). */
  logs: { containerLogMaxSize: string; containerLogMaxFiles: number; containerLogMonitorIntervalSeconds: number };
  cgroupRoot: string;
  heartbeatSeconds: number;
  podResyncSeconds: number;
  /** The kubelet's syncFrequency: every pod is synced at least this often (the safety net under the relist). */
  syncFrequencySeconds: number;
  maxPods: number;
  reserved: { cpu: string; memory: string; ephemeralStorage: string };
  evictionHard: { memoryAvailable: string; nodefsAvailable: string; pidAvailable: string };
  clusterDNS: { servers: string[]; domain: string };
  healthz: { address: string; port: number };
  /** The node API (nodeapi/: exec, attach, portForward, containerLogs), the kubelet's :10250. Served
   *  only with certFile and keyFile (TLS always, no self-signed fallback); callers' bearer tokens are
   *  reviewed by the control plane and cached tokenReviewCacheSeconds (the kubelet's webhook cacheTTL). */
  server: { address: string; port: number; certFile: string; keyFile: string; tokenReviewCacheSeconds: number };
  logLevel: LogLevel;
  /** runtime: whatever the runtime's CNI config gives; novanet: the agent stamps tenant and
   *  subnet on each sandbox for the runtime's novanet conflist, CHECKs and GCs attachments. */
  network: {
    mode: "runtime" | "novanet";
    novanet: NovanetSettings & { checkSeconds: number };
  };
  /** Services on this node (services/): kube-proxy's job, with nftables under NovaNET (in ovs mode: node ports). */
  services: ServicesConfig;
  /** hostPathPrefixes: [] refuses every hostPath; pluginsRegistryDir "" = <rootDir>/plugins_registry;
   *  csiFSGroupPolicy: CSI driver name -> its CSIDriver fsGroupPolicy (unlisted: ReadWriteOnceWithFSType). */
  volumes: { hostPathPrefixes: string[]; pluginsRegistryDir: string; csiTimeoutSeconds: number; csiFSGroupPolicy: Record<string, FSGroupPolicy> };
  /** What pods may ask for on this node at all; everything defaults to refused. allowedCapabilities:
   *  names without CAP_ ("*" = any); allowedUnsafeSysctls: names or "prefix*" beyond the kubelet's safe
   *  set; seccompDefault: RuntimeDefault for containers that name no seccomp profile. */
  security: { allowPrivileged: boolean; allowedCapabilities: string[]; allowHostNamespaces: boolean; allowedUnsafeSysctls: string[]; seccompDefault: boolean };
}

export function defaultConfig(): AgentConfig {
  return {
    nodeName: hostname().toLowerCase(),
    nodeLabels: {},
    node: defaultNodeSettings(),
    controlPlane: { address: "127.0.0.1:6443", tokenFile: "/etc/k8shost-agent/token", caFile: "", requestTimeoutSeconds: 10 },
    runtime: { endpoint: "unix:///run/containerd/containerd.sock", requestTimeoutSeconds: 120, runtimeHandler: "", relistSeconds: 1, eventedRelistSeconds: 300 },
    rootDir: "/var/lib/k8shost-agent",
    podLogsDir: "/var/log/pods",
    logs: { containerLogMaxSize: "10Mi", containerLogMaxFiles: 5, containerLogMonitorIntervalSeconds: 10 },
    cgroupRoot: "/k8shost",
    heartbeatSeconds: 10,
    podResyncSeconds: 60,
    syncFrequencySeconds: 60,
    maxPods: 110,
    reserved: { cpu: "100m", memory: "256Mi", ephemeralStorage: "1Gi" },
    evictionHard: { memoryAvailable: "100Mi", nodefsAvailable: "10%", pidAvailable: "5%" },
    clusterDNS: { servers: [], domain: "cluster.local" },
    healthz: { address: "127.0.0.1", port: 10248 },
    server: { address: "0.0.0.0", port: 10250, certFile: "", keyFile: "", tokenReviewCacheSeconds: 120 },
    logLevel: "info",
    network: {
      mode: "runtime",
      novanet: { pluginPath: "/opt/cni/bin/novanet", networkName: "novanet", serverAddress: "", tokenFile: "", mode: "ovs", ovsdb: "", defaultSubnetId: "", timeoutSeconds: 30, checkSeconds: 600 },
    },
    services: defaultServicesConfig(),
    volumes: { hostPathPrefixes: [], pluginsRegistryDir: "", csiTimeoutSeconds: 120, csiFSGroupPolicy: {} },
    security: { allowPrivileged: false, allowedCapabilities: [], allowHostNamespaces: false, allowedUnsafeSysctls: [], seccompDefault: false },
  };
}

/** A mapping that is absent by default; given (even partly), it starts from `defaults`. null removes it. */
class OptionalMapping {
  constructor(readonly shape: { [k: string]: Shape }, readonly defaults: () => object) {}
}

/** A value with its own parser (a list of mappings). */
class CustomField {
  constructor(readonly parse: (v: unknown, field: string) => unknown) {}
}

type Shape = "string" | "number" | "boolean" | "string[]" | "record" | OptionalMapping | CustomField | { [k: string]: Shape };

const OVN = new OptionalMapping({ ...OVN_SHAPE, management: new OptionalMapping(OVN_MANAGEMENT_SHAPE, defaultOvnManagement) }, defaultOvnSettings);

const shape: { [k: string]: Shape } = {
  nodeName: "string",
  nodeLabels: "record",
  node: { ip: "string", taints: new CustomField((v, field) => parseTaints(v, field, invalid)) },
  controlPlane: { address: "string", tokenFile: "string", caFile: "string", requestTimeoutSeconds: "number" },
  runtime: { endpoint: "string", requestTimeoutSeconds: "number", runtimeHandler: "string", relistSeconds: "number", eventedRelistSeconds: "number" },
  rootDir: "string",
  podLogsDir: "string",
  logs: { containerLogMaxSize: "string", containerLogMaxFiles: "number", containerLogMonitorIntervalSeconds: "number" },
  cgroupRoot: "string",
  heartbeatSeconds: "number",
  podResyncSeconds: "number",
  syncFrequencySeconds: "number",
  maxPods: "number",
  reserved: { cpu: "string", memory: "string", ephemeralStorage: "string" },
  evictionHard: { memoryAvailable: "string", nodefsAvailable: "string", pidAvailable: "string" },
  clusterDNS: { servers: "string[]", domain: "string" },
  healthz: { address: "string", port: "number" },
  server: { address: "string", port: "number", certFile: "string", keyFile: "string", tokenReviewCacheSeconds: "number" },
  logLevel: "string",
  network: {
    mode: "string",
    novanet: { pluginPath: "string", networkName: "string", serverAddress: "string", tokenFile: "string", mode: "string", ovsdb: "string", defaultSubnetId: "string", timeoutSeconds: "number", checkSeconds: "number", ovn: OVN },
  },
  services: SERVICES_SHAPE,
  volumes: { hostPathPrefixes: "string[]", pluginsRegistryDir: "string", csiTimeoutSeconds: "number", csiFSGroupPolicy: "record" },
  security: { allowPrivileged: "boolean", allowedCapabilities: "string[]", allowHostNamespaces: "boolean", allowedUnsafeSysctls: "string[]", seccompDefault: "boolean" },
};

function invalid(field: string, msg: string): CodedError {
  return new CodedError("InvalidArgument", `config field '${field}': ${msg}`, { field });
}

/** Overlays `input` on `base`, checking every key and type against the schema. */
function overlay(base: Record<string, unknown>, input: unknown, s: { [k: string]: Shape }, path: string): void {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw invalid(path || "<root>", "must be a mapping");
  }
  for (const [k, v] of Object.entries(input as Record<string, unknown>)) {
    const field = path ? `${path}.${k}` : k;
    const want = s[k];
    if (want === undefined) throw invalid(field, "unknown field");
    if (want instanceof CustomField) {
      base[k] = want.parse(v, field);
    } else if (want instanceof OptionalMapping) {
      if (v === null) delete base[k];
      else overlay((base[k] ??= want.defaults()) as Record<string, unknown>, v, want.shape, field);
    } else if (typeof want === "object") {
      overlay(base[k] as Record<string, unknown>, v, want, field);
    } else if (want === "string[]") {
      if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw invalid(field, "must be a list of strings");
      base[k] = v;
    } else if (want === "record") {
      if (v === null || typeof v !== "object" || Array.isArray(v) || Object.values(v).some((x) => typeof x !== "string")) {
        throw invalid(field, "must be a mapping of strings to strings");
      }
      base[k] = { ...(v as Record<string, string>) };
    } else {
      if (typeof v !== want) throw invalid(field, `must be a ${want}, got ${Array.isArray(v) ? "list" : typeof v}`);
      base[k] = v;
    }
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function buildConfig(...layers: unknown[]): AgentConfig {
  const cfg = defaultConfig();
  for (const layer of layers) if (layer !== undefined && layer !== null) overlay(cfg as unknown as Record<string, unknown>, layer, shape, "");
  validate(cfg);
  return cfg;
}

function validate(c: AgentConfig): void {
  if (!DNS_LABEL.test(c.nodeName) || c.nodeName.length > 253) throw invalid("nodeName", `'${c.nodeName}' is not a DNS subdomain name`);
  if (!c.controlPlane.address) throw invalid("controlPlane.address", "must not be empty");
  if (!c.controlPlane.tokenFile) throw invalid("controlPlane.tokenFile", "must not be empty");
  if (!/^unix:\/\/\/.+/.test(c.runtime.endpoint)) throw invalid("runtime.endpoint", "must be unix:///path/to/socket");
  const positive: [string, number][] = [
    ["controlPlane.requestTimeoutSeconds", c.controlPlane.requestTimeoutSeconds],
    ["runtime.requestTimeoutSeconds", c.runtime.requestTimeoutSeconds],
    ["runtime.relistSeconds", c.runtime.relistSeconds],
    ["heartbeatSeconds", c.heartbeatSeconds],
    ["podResyncSeconds", c.podResyncSeconds],
    ["syncFrequencySeconds", c.syncFrequencySeconds],
    ["maxPods", c.maxPods],
    ["volumes.csiTimeoutSeconds", c.volumes.csiTimeoutSeconds],
    ["logs.containerLogMonitorIntervalSeconds", c.logs.containerLogMonitorIntervalSeconds],
  ];
  for (const [f, v] of positive) if (!(v > 0) || !Number.isFinite(v)) throw invalid(f, `must be > 0, got ${v}`);
  const evented = c.runtime.eventedRelistSeconds;
  if (!(evented === 0 || evented >= c.runtime.relistSeconds) || !Number.isFinite(evented)) {
    throw invalid("runtime.eventedRelistSeconds", `must be 0 (no runtime events) or >= runtime.relistSeconds (${c.runtime.relistSeconds}), got ${evented}`);
  }
  if (!Number.isInteger(c.maxPods)) throw invalid("maxPods", "must be an integer");
  if (!Number.isInteger(c.healthz.port) || c.healthz.port < 0 || c.healthz.port > 65535) throw invalid("healthz.port", "must be 0-65535");
  if (!(LOG_LEVELS as readonly string[]).includes(c.logLevel)) throw invalid("logLevel", `must be one of ${LOG_LEVELS.join(", ")}`);
  validateNodeSettings(c.node, invalid);
  validateNetwork(c.network);
  validateServicesConfig(c.services, invalid);
  validateServer(c.server);
  validateLogs(c.logs);
  for (const p of ["rootDir", "podLogsDir", "cgroupRoot"] as const) if (!c[p].startsWith("/")) throw invalid(p, "must be an absolute path");
  for (const [i, p] of c.volumes.hostPathPrefixes.entries()) {
    if (!p.startsWith("/") || p.split("/").includes("..")) throw invalid(`volumes.hostPathPrefixes[${i}]`, `'${p}' must be an absolute path without '..'`);
  }
  if (c.volumes.pluginsRegistryDir && !c.volumes.pluginsRegistryDir.startsWith("/")) throw invalid("volumes.pluginsRegistryDir", "must be an absolute path (or empty for <rootDir>/plugins_registry)");
  for (const [driver, policy] of Object.entries(c.volumes.csiFSGroupPolicy)) {
    if (!(FS_GROUP_POLICIES as readonly string[]).includes(policy)) throw invalid(`volumes.csiFSGroupPolicy.${driver}`, `'${policy}' is not one of ${FS_GROUP_POLICIES.join(", ")}`);
  }
  for (const [i, cap] of c.security.allowedCapabilities.entries()) {
    const problem = cap === "*" ? undefined : capabilityProblem(cap);
    if (problem) throw invalid(`security.allowedCapabilities[${i}]`, `${problem} (or "*" for any)`);
  }
  for (const [i, p] of c.security.allowedUnsafeSysctls.entries()) {
    const problem = unsafeSysctlPatternProblem(p);
    if (problem) throw invalid(`security.allowedUnsafeSysctls[${i}]`, problem);
  }
}

function validateLogs(l: AgentConfig["logs"]): void {
  const size = parseQuantity(l.containerLogMaxSize);
  if (size === undefined || !(size >= 1)) throw invalid("logs.containerLogMaxSize", `'${l.containerLogMaxSize}' is not a positive quantity (e.g. 10Mi)`);
  if (!Number.isInteger(l.containerLogMaxFiles) || l.containerLogMaxFiles < 2) throw invalid("logs.containerLogMaxFiles", `must be an integer >= 2 (the live file and one rotated), got ${l.containerLogMaxFiles}`);
}

function validateServer(s: AgentConfig["server"]): void {
  if (!s.address) throw invalid("server.address", "must not be empty");
  if (!Number.isInteger(s.port) || s.port < 0 || s.port > 65535) throw invalid("server.port", "must be 0-65535");
  if (!!s.certFile !== !!s.keyFile) throw invalid(s.certFile ? "server.keyFile" : "server.certFile", "must be set with the other (the node API serves TLS only)");
  if (!(s.tokenReviewCacheSeconds >= 0) || !Number.isFinite(s.tokenReviewCacheSeconds)) throw invalid("server.tokenReviewCacheSeconds", "must be >= 0");
}

function validateNetwork(n: AgentConfig["network"]): void {
  if (n.mode !== "runtime" && n.mode !== "novanet") throw invalid("network.mode", `'${n.mode}' is not one of runtime, novanet`);
  const nv = n.novanet;
  if (nv.mode !== "ovs" && nv.mode !== "bridge") throw invalid("network.novanet.mode", `'${nv.mode}' is not one of ovs, bridge`);
  if (!(nv.timeoutSeconds > 0)) throw invalid("network.novanet.timeoutSeconds", "must be > 0");
  if (!(nv.checkSeconds > 0)) throw invalid("network.novanet.checkSeconds", "must be > 0");
  validateOvnSettings(nv.ovn, nv.mode, invalid);
  if (n.mode !== "novanet") return;
  if (!nv.pluginPath.startsWith("/")) throw invalid("network.novanet.pluginPath", "must be an absolute path");
  if (!nv.serverAddress) throw invalid("network.novanet.serverAddress", "must be set when network.mode is novanet");
  if (!nv.tokenFile) throw invalid("network.novanet.tokenFile", "must be set when network.mode is novanet");
}
