// A Service as the API server takes it (ValidateService and its defaults):
// every problem names its field. Single-stack IPv4 only; ExternalName is not
// served. Defaults are filled in place: type ClusterIP, protocol TCP,
// targetPort = port, sessionAffinity None, ClientIP timeout 10800 s.
import type { Service, ServicePort } from "@plasmacloud/proto/k8shost";
import { invalid } from "./authz";

export const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** IANA_SVC_NAME: a named port (at most 15, lowercase, a letter somewhere, no "--"). */
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
export const SERVICE_TYPES = ["ClusterIP", "NodePort", "LoadBalancer"] as const;
export const PROTOCOLS = ["TCP", "UDP", "SCTP"] as const;
export const DEFAULT_AFFINITY_TIMEOUT = 10800;
export const HEADLESS = "None";

export function isIanaSvcName(s: string): boolean {
  return s.length <= 15 && IANA_SVC_NAME.test(s) && /[a-z]/.test(s) && !s.includes("--");
}

export const isHeadless = (s: Service): boolean => s.spec?.clusterIp === HEADLESS;

/** Checks and defaults a Service a user creates; the cluster IP and node ports are the allocator's. */
export function validateService(svc: Service): void {
  const m = svc.metadata;
  if (!m?.name || !DNS1035_LABEL.test(m.name) || m.name.length > 63) {
    throw invalid("metadata.name", `'${m?.name ?? ""}' is not a DNS-1035 label (lowercase letters, digits and '-', starting with a letter, at most 63)`);
  }
  m.namespace ||= "default";
  if (!DNS1123_LABEL.test(m.namespace) || m.namespace.length > 63) throw invalid("metadata.namespace", `'${m.namespace}' is not a DNS label`);
  if (!svc.spec) throw invalid("spec", "must be set");
  const s = svc.spec;
  s.type ||= "ClusterIP";
  if (s.type === "ExternalName") throw invalid("spec.type", "ExternalName is not supported (a CNAME in FlashDNS, no proxying)");
  if (!(SERVICE_TYPES as readonly string[]).includes(s.type)) throw invalid("spec.type", `'${s.type}' is not one of ${SERVICE_TYPES.join(", ")}`);
  if (s.clusterIps.length > 1) throw invalid("spec.clusterIPs", "at most one address (single-stack IPv4)");
  if (s.clusterIp && s.clusterIps.length === 1 && s.clusterIps[0] !== s.clusterIp) throw invalid("spec.clusterIPs[0]", `must equal spec.clusterIP ('${s.clusterIp}')`);
  s.clusterIp ||= s.clusterIps[0] ?? "";
  if (s.clusterIp === HEADLESS && s.type !== "ClusterIP") throw invalid("spec.clusterIP", `'None' (headless) needs type ClusterIP, not ${s.type}`);
  if (s.ports.length === 0 && s.clusterIp !== HEADLESS) throw invalid("spec.ports", "at least one port is required (except for a headless Service)");
  validatePorts(s.ports, s.type);
  for (const [k, v] of Object.entries(s.selector)) {
    if (!k || k.length > 317) throw invalid(`spec.selector[${JSON.stringify(k)}]`, "is not a label key");
    if (v.length > 63 || (v && !/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(v))) throw invalid(`spec.selector[${JSON.stringify(k)}]`, `'${v}' is not a label value`);
  }
  s.sessionAffinity ||= "None";
  if (s.sessionAffinity !== "None" && s.sessionAffinity !== "ClientIP") throw invalid("spec.sessionAffinity", `'${s.sessionAffinity}' is not one of None, ClientIP`);
  if (s.sessionAffinity === "None") {
    if (s.sessionAffinityConfig?.clientIp) throw invalid("spec.sessionAffinityConfig", "must not be set when sessionAffinity is None");
  } else {
    const c = (s.sessionAffinityConfig ??= { clientIp: undefined });
    const cfg = (c.clientIp ??= { timeoutSeconds: 0 });
    cfg.timeoutSeconds ||= DEFAULT_AFFINITY_TIMEOUT;
    if (cfg.timeoutSeconds < 1 || cfg.timeoutSeconds > 86400) throw invalid("spec.sessionAffinityConfig.clientIP.timeoutSeconds", `must be 1-86400, got ${cfg.timeoutSeconds}`);
  }
  // Status is FiberLB's to write, never the creator's.
  svc.status = { loadBalancer: { ingress: [] } };
}

function validatePorts(ports: ServicePort[], type: string): void {
  const names = new Set<string>();
  const pairs = new Set<string>();
  ports.forEach((p, i) => {
    const at = `spec.ports[${i}]`;
    if (ports.length > 1 && !p.name) throw invalid(`${at}.name`, "is required when the Service has more than one port");
    if (p.name && (!DNS1123_LABEL.test(p.name) || p.name.length > 63)) throw invalid(`${at}.name`, `'${p.name}' is not a DNS label`);
    if (p.name && names.has(p.name)) throw invalid(`${at}.name`, `'${p.name}' is used by another port`);
    names.add(p.name);
    p.protocol ||= "TCP";
    if (!(PROTOCOLS as readonly string[]).includes(p.protocol)) throw invalid(`${at}.protocol`, `'${p.protocol}' is not one of ${PROTOCOLS.join(", ")}`);
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw invalid(`${at}.port`, `must be 1-65535, got ${p.port}`);
    const pair = `${p.port}/${p.protocol}`;
    if (pairs.has(pair)) throw invalid(`${at}`, `port ${pair} appears twice`);
    pairs.add(pair);
    p.targetPort ||= String(p.port);
    if (/^\d+$/.test(p.targetPort)) {
      const n = Number(p.targetPort);
      if (n < 1 || n > 65535) throw invalid(`${at}.targetPort`, `must be 1-65535, got ${n}`);
      p.targetPort = String(n);
    } else if (!isIanaSvcName(p.targetPort)) {
      throw invalid(`${at}.targetPort`, `'${p.targetPort}' is neither a port number nor a port name (at most 15 lowercase letters, digits and '-', with a letter)`);
    }
    if (type === "ClusterIP" && p.nodePort) throw invalid(`${at}.nodePort`, "may not be set for type ClusterIP");
  });
}
