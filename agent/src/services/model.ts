// What the node must do for its Services, from the control plane's objects:
// one entry per Service port with its cluster IP, node port, load-balancer
// IPs, affinity and endpoints, and per tenant the pod IPs on this node that
// may reach that tenant's cluster IPs. Everything that will be written into
// an nftables ruleset is checked here (names, addresses, numbers), so a
// malformed object is skipped with a reason and never becomes ruleset text.
//
// Endpoints as kube-proxy picks them (KEP-1669): the ready ones; when none is
// ready, the serving ones that are terminating, so a rolling restart does not
// drop traffic that still has somewhere to go. Headless Services get no rules.
import { createHash } from "node:crypto";
import type { EndpointSlice, Service } from "@plasmacloud/proto/k8shost";
import { inCidr, isIPv4, parseCidr } from "./ipv4";

export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

export type Proto = "tcp" | "udp" | "sctp";

export interface EndpointModel {
  ip: string;
  port: number;
}

export interface ServicePortModel {
  /** `<namespace>/<service>/<protocol>/<port name>`, the readable part of its chain names. */
  label: string;
  /** Hash of tenant and label: two tenants' Services of one name never share a chain. */
  id: string;
  /** Tenant id (a hash of org/project) whose pods may use the cluster IP. */
  tenant: string;
  clusterIP: string;
  protocol: Proto;
  port: number;
  /** 0: none. */
  nodePort: number;
  /** status.loadBalancer.ingress[].ip: reached from anywhere, as node ports. */
  externalIPs: string[];
  /** ClientIP affinity timeout; 0: no affinity. */
  affinitySeconds: number;
  endpoints: EndpointModel[];
}

export interface TenantModel {
  id: string;
  /** Pod IPs of the tenant on this node, sorted. */
  podIPs: string[];
}

export interface ProxyModel {
  serviceCIDR: string;
  tenants: TenantModel[];
  ports: ServicePortModel[];
}

export interface TenantRef {
  orgId: string;
  projectId: string;
}

/** A stable short id (base32 of sha256), as kube-proxy's chain hashes. */
export function shortHash(...parts: string[]): string {
  const h = createHash("sha256").update(parts.join("\0")).digest();
  const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let out = "";
  for (let i = 0; i < 8; i++) out += abc[h[i]! & 31];
  return out;
}

export const tenantId = (t: TenantRef): string => shortHash("tenant", t.orgId, t.projectId);

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const label63 = (s: string): boolean => s.length <= 63 && DNS1123_LABEL.test(s);
const validPort = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 65535;
const PROTOS: Record<string, Proto> = { TCP: "tcp", UDP: "udp", SCTP: "sctp" };

/**
 * A Service port's usable endpoints from its slices, as kube-proxy reads them:
 * the ready ones; only when none is ready, the serving-and-terminating ones.
 * (NovaNET's load balancers read them the same way: stand-ins/src/novanet/ovn-lb-model.ts.)
 */
export function endpointsFor(slices: EndpointSlice[], portName: string, protocol: string): EndpointModel[] {
  const ready = new Map<string, EndpointModel>();
  const fallback = new Map<string, EndpointModel>();
  for (const s of slices) {
    if (s.addressType !== "IPv4") continue;
    const sp = s.ports.find((p) => p.name === portName && (p.protocol || "TCP") === protocol);
    if (!sp || !validPort(sp.port)) continue;
    for (const e of s.endpoints) {
      const ip = e.addresses[0] ?? "";
      if (!isIPv4(ip)) continue;
      const c = e.conditions;
      const ep = { ip, port: sp.port };
      // An unset condition means ready (the API's documented reading).
      if (c?.ready !== false) ready.set(`${ip}:${sp.port}`, ep);
      else if (c.serving && c.terminating) fallback.set(`${ip}:${sp.port}`, ep);
    }
  }
  const pick = ready.size > 0 ? ready : fallback;
  return [...pick.values()].sort((a, b) => (a.ip === b.ip ? a.port - b.port : a.ip < b.ip ? -1 : 1));
}

/** The model, and why each skipped object was skipped. */
export function buildModel(services: Iterable<Service>, slices: Iterable<EndpointSlice>, tenantPods: Map<string, { tenant: TenantRef; ips: Set<string> }>, serviceCIDR: string): { model: ProxyModel; problems: string[] } {
  const cidr = parseCidr(serviceCIDR);
  const problems: string[] = [];
  const byService = new Map<string, EndpointSlice[]>();
  for (const s of slices) {
    const m = s.metadata!;
    const k = `${m.orgId}\0${m.projectId}\0${m.namespace}\0${m.labels[SERVICE_NAME_LABEL] ?? ""}`;
    byService.set(k, [...(byService.get(k) ?? []), s]);
  }
  const ports: ServicePortModel[] = [];
  for (const svc of services) {
    const m = svc.metadata!;
    const spec = svc.spec;
    const where = `service ${m.namespace}/${m.name}`;
    if (!spec || spec.clusterIp === "None") continue;
    if (!label63(m.name) || !label63(m.namespace)) {
      problems.push(`${JSON.stringify(`${m.namespace}/${m.name}`)}: not DNS labels`);
      continue;
    }
    if (!isIPv4(spec.clusterIp) || !inCidr(spec.clusterIp, cidr)) {
      problems.push(`${where}: cluster IP '${spec.clusterIp}' is not an address in services.serviceCIDR ${cidr.text}`);
      continue;
    }
    const timeout = spec.sessionAffinity === "ClientIP" ? spec.sessionAffinityConfig?.clientIp?.timeoutSeconds || 10800 : 0;
    if (!Number.isInteger(timeout) || timeout < 0 || timeout > 86400) {
      problems.push(`${where}: session affinity timeout ${timeout} is not 1-86400`);
      continue;
    }
    const externalIPs = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((ip) => ip && isIPv4(ip));
    const svcSlices = byService.get(`${m.orgId}\0${m.projectId}\0${m.namespace}\0${m.name}`) ?? [];
    for (const p of spec.ports) {
      const proto = PROTOS[p.protocol || "TCP"];
      if (!proto || !validPort(p.port) || (p.name && !label63(p.name)) || (p.nodePort && !validPort(p.nodePort))) {
        problems.push(`${where}: port ${JSON.stringify(p.name || String(p.port))} is malformed`);
        continue;
      }
      const label = `${m.namespace}/${m.name}/${proto}/${p.name}`;
      ports.push({
        label,
        id: shortHash(m.orgId, m.projectId, label),
        tenant: tenantId(m),
        clusterIP: spec.clusterIp,
        protocol: proto,
        port: p.port,
        nodePort: spec.type === "NodePort" || spec.type === "LoadBalancer" ? p.nodePort : 0,
        externalIPs: spec.type === "LoadBalancer" ? externalIPs : [],
        affinitySeconds: timeout,
        endpoints: endpointsFor(svcSlices, p.name, p.protocol || "TCP"),
      });
    }
  }
  ports.sort((a, b) => (a.label === b.label ? (a.id < b.id ? -1 : 1) : a.label < b.label ? -1 : 1));
  const tenants = [...tenantPods.values()]
    .map((t) => ({ id: tenantId(t.tenant), podIPs: [...t.ips].filter(isIPv4).sort() }))
    .filter((t) => t.podIPs.length > 0)
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  return { model: { serviceCIDR: cidr.text, tenants, ports }, problems };
}
