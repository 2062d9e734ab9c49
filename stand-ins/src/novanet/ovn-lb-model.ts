// What OVN's northbound db should hold for the Services (pure): one
// Load_Balancer per (Service, protocol), as ovn-kubernetes makes them, each
// VIP "clusterIP:port" (and, for a LoadBalancer Service, "ingressIP:port":
// a pod reaching its Service's external address is served in-cluster, as
// kube-proxy does) mapped to the endpoints' "ip:targetPort".
//
// Endpoints as kube-proxy (and the agent's nftables Services, agent/src/
// services/model.ts) pick them (KEP-1669): the ready ones; when none is
// ready, the serving ones that are terminating; never one that is not ready
// otherwise. A VIP with no endpoint keeps an empty backend list and the LB
// carries options:reject=true, so OVN answers a TCP RST / ICMP port
// unreachable at once (kube-proxy's REJECT) instead of black-holing it.
// Everything that goes into an ovn-nbctl argument is checked here
// (addresses, ports, protocols), so a malformed object is skipped with a
// reason and never becomes a row.
import type { EndpointSlice, Service } from "@plasmacloud/proto/k8shost";
import { endpointsFor } from "../../../agent/src/services/model.js";

export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
/** Beside novanet-owner, what a row of ours is for: the reconciler reads and removes only its own kinds. */
export const KIND_KEY = "novanet-kind";
export const LB_KIND = "service";
export const ACL_KIND = "service-range";
/** OVN's affinity_timeout is at most 65535 s; a Service's ClientIP timeout may be up to 86400. */
export const MAX_OVN_AFFINITY = 65535;

export type LbProtocol = "tcp" | "udp" | "sctp";
const PROTOCOLS: Record<string, LbProtocol> = { TCP: "tcp", UDP: "udp", SCTP: "sctp" };

export interface Tenant {
  orgId: string;
  projectId: string;
}

export interface DesiredLb {
  /** `<prefix>/lb/<org>/<project>/<namespace>/<service>/<protocol>`, each part URI-encoded. */
  name: string;
  protocol: LbProtocol;
  /** "vip:port" -> "ip:port,ip:port" ("" when no endpoint: rejected). */
  vips: Record<string, string>;
  options: Record<string, string>;
  externalIds: Record<string, string>;
  /** Whose logical switches it is attached to. */
  tenant: Tenant;
}

const enc = encodeURIComponent;
export const tenantKey = (t: Tenant): string => `${enc(t.orgId)}/${enc(t.projectId)}`;

export function lbName(prefix: string, m: Tenant & { namespace: string; name: string }, protocol: LbProtocol): string {
  return `${prefix}/lb/${tenantKey(m)}/${enc(m.namespace)}/${enc(m.name)}/${protocol}`;
}

export function isIPv4(s: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  return !!m && m.slice(1).every((o) => Number(o) <= 255 && String(Number(o)) === o);
}

const validPort = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 65535;

/** A Service port's backends ("ip:port", sorted), chosen exactly as the agent's kube-proxy chooses them. */
const backendsFor = (slices: EndpointSlice[], portName: string, protocol: string): string[] =>
  endpointsFor(slices, portName, protocol).map((e) => `${e.ip}:${e.port}`).sort();

/** The load balancers `prefix` should own for these Services, and why each skipped object was skipped. */
export function desiredLbs(prefix: string, services: Iterable<Service>, slices: Iterable<EndpointSlice>): { lbs: DesiredLb[]; problems: string[] } {
  const bySvc = new Map<string, EndpointSlice[]>();
  for (const s of slices) {
    const m = s.metadata!;
    const k = `${m.orgId}\0${m.projectId}\0${m.namespace}\0${m.labels[SERVICE_NAME_LABEL] ?? ""}`;
    bySvc.set(k, [...(bySvc.get(k) ?? []), s]);
  }
  const lbs: DesiredLb[] = [];
  const problems: string[] = [];
  for (const svc of services) {
    const m = svc.metadata!;
    const spec = svc.spec;
    const where = `service ${m.orgId}/${m.projectId}/${m.namespace}/${m.name}`;
    if (!spec || spec.clusterIp === "None" || !spec.clusterIp) continue; // headless (or not allocated): DNS only
    if (!m.orgId || !m.projectId) {
      problems.push(`${where}: no tenant`);
      continue;
    }
    if (!isIPv4(spec.clusterIp)) {
      problems.push(`${where}: cluster IP '${spec.clusterIp}' is not an IPv4 address`);
      continue;
    }
    const ingress = spec.type === "LoadBalancer" ? (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter(isIPv4) : [];
    const affinity = spec.sessionAffinity === "ClientIP" ? spec.sessionAffinityConfig?.clientIp?.timeoutSeconds || 10800 : 0;
    const svcSlices = bySvc.get(`${m.orgId}\0${m.projectId}\0${m.namespace}\0${m.name}`) ?? [];
    const perProto = new Map<LbProtocol, Record<string, string>>();
    for (const p of spec.ports) {
      const proto = PROTOCOLS[p.protocol || "TCP"];
      if (!proto || !validPort(p.port)) {
        problems.push(`${where}: port ${JSON.stringify(p.name || String(p.port))} is malformed`);
        continue;
      }
      const backends = backendsFor(svcSlices, p.name, p.protocol || "TCP").join(",");
      const vips = perProto.get(proto) ?? {};
      for (const ip of [spec.clusterIp, ...ingress]) vips[`${ip}:${p.port}`] = backends;
      perProto.set(proto, vips);
    }
    for (const [protocol, vips] of perProto) {
      const options: Record<string, string> = {
        reject: "true",
        // Connections to a backend that left are flushed (kube-proxy clears UDP conntrack of stale endpoints).
        ct_flush: "true",
      };
      if (affinity > 0) options.affinity_timeout = String(Math.min(affinity, MAX_OVN_AFFINITY));
      lbs.push({
        name: lbName(prefix, m, protocol),
        protocol,
        vips,
        options,
        externalIds: {
          "novanet-owner": prefix,
          [KIND_KEY]: LB_KIND,
          "novanet-tenant": tenantKey(m),
          "novanet-service": `${enc(m.namespace)}/${enc(m.name)}`,
        },
        tenant: { orgId: m.orgId, projectId: m.projectId },
      });
    }
  }
  lbs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { lbs, problems };
}
