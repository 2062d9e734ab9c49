// FlashDNS's answers for the cluster zone, after the Kubernetes DNS
// specification (what CoreDNS's kubernetes plugin serves), in one tenant:
//   <svc>.<ns>.svc.<zone>              A: the cluster IP; headless: each ready endpoint
//   _<port>._<proto>.<svc>.<ns>.svc.<zone>   SRV: the named port (headless: per endpoint)
//   <host>.<svc>.<ns>.svc.<zone>       A: a headless Service's endpoint by its hostname
//                                      (a pod's spec.hostname under spec.subdomain) or
//                                      its dashed address (10-77-0-5)
// The tenant is the asking pod's, found by its source address among the pods;
// a source that is no pod, or a name of another tenant, is NXDOMAIN: the
// zone never says what another tenant has.
import type { Answer, SrvAnswer } from "dns-packet";
import type { EndpointSlice, Pod, Service } from "@plasmacloud/proto/k8shost";

export const TTL = 5; // CoreDNS's default: endpoints change often

export interface ZoneView {
  pods(): Iterable<Pod>;
  services(): Iterable<Service>;
  slices(): Iterable<EndpointSlice>;
}

export interface Tenant {
  orgId: string;
  projectId: string;
}

export type Lookup = { rcode: "NOERROR"; answers: Answer[]; additionals: Answer[] } | { rcode: "NXDOMAIN" };

const NX: Lookup = { rcode: "NXDOMAIN" };

/** The tenant of the pod with this address; undefined for none, or for an address two tenants' pods claim. */
export function tenantOfSource(view: ZoneView, ip: string): Tenant | undefined {
  const found = new Map<string, Tenant>();
  for (const p of view.pods()) {
    const s = p.status;
    if (!s || s.phase === "Succeeded" || s.phase === "Failed" || p.spec?.hostNetwork) continue;
    if (s.podIp !== ip && !s.podIps.some((x) => x.ip === ip)) continue;
    const m = p.metadata!;
    found.set(`${m.orgId}/${m.projectId}`, { orgId: m.orgId, projectId: m.projectId });
  }
  return found.size === 1 ? [...found.values()][0] : undefined;
}

const dashed = (ip: string): string => ip.replaceAll(".", "-");

interface ReadyEndpoint {
  ip: string;
  hostname: string;
  ports: Map<string, { port: number; protocol: string }>;
}

function readyEndpoints(view: ZoneView, svc: Service): ReadyEndpoint[] {
  const m = svc.metadata!;
  const out = new Map<string, ReadyEndpoint>();
  for (const s of view.slices()) {
    const sm = s.metadata!;
    if (sm.orgId !== m.orgId || sm.projectId !== m.projectId || sm.namespace !== m.namespace || sm.labels["kubernetes.io/service-name"] !== m.name || s.addressType !== "IPv4") continue;
    for (const e of s.endpoints) {
      const ip = e.addresses[0];
      if (!ip || e.conditions?.ready === false) continue;
      const ep = out.get(ip) ?? { ip, hostname: e.hostname, ports: new Map() };
      for (const p of s.ports) ep.ports.set(`${p.name}/${(p.protocol || "TCP").toLowerCase()}`, { port: p.port, protocol: p.protocol || "TCP" });
      out.set(ip, ep);
    }
  }
  return [...out.values()].sort((a, b) => (a.ip < b.ip ? -1 : 1));
}

/** What `name` (lowercase, no trailing dot, inside the zone) of `type` is for this tenant. */
export function lookup(view: ZoneView, zone: string, tenant: Tenant | undefined, name: string, type: string): Lookup {
  if (!tenant) return NX;
  const labels = name.slice(0, name.length - zone.length - 1).split(".");
  if (labels.at(-1) !== "svc" || labels.length < 3) return NX;
  const [nsName, svcName] = [labels.at(-2)!, labels.at(-3)!];
  const svc = [...view.services()].find((s) => {
    const m = s.metadata!;
    return m.orgId === tenant.orgId && m.projectId === tenant.projectId && m.namespace === nsName && m.name === svcName;
  });
  if (!svc) return NX;
  const headless = svc.spec?.clusterIp === "None";
  const fqdn = `${svcName}.${nsName}.svc.${zone}`;
  const a = (n: string, ip: string): Answer => ({ name: n, type: "A", class: "IN", ttl: TTL, data: ip });
  const rest = labels.slice(0, -3);

  if (rest.length === 0) {
    if (type !== "A") return { rcode: "NOERROR", answers: [], additionals: [] };
    const ips = headless ? readyEndpoints(view, svc).map((e) => e.ip) : [svc.spec!.clusterIp];
    return { rcode: "NOERROR", answers: ips.map((ip) => a(fqdn, ip)), additionals: [] };
  }
  if (rest.length === 1) {
    if (!headless) return NX;
    const ep = readyEndpoints(view, svc).find((e) => (e.hostname && e.hostname === rest[0]) || dashed(e.ip) === rest[0]);
    if (!ep) return NX;
    return { rcode: "NOERROR", answers: type === "A" ? [a(name, ep.ip)] : [], additionals: [] };
  }
  if (rest.length === 2 && rest[0]!.startsWith("_") && rest[1]!.startsWith("_")) {
    const [portName, proto] = [rest[0]!.slice(1), rest[1]!.slice(1)];
    const port = svc.spec!.ports.find((p) => p.name === portName && (p.protocol || "TCP").toLowerCase() === proto);
    if (!port || !portName) return NX;
    if (type !== "SRV") return { rcode: "NOERROR", answers: [], additionals: [] };
    const srv = (target: string, p: number, weight: number): SrvAnswer => ({ name, type: "SRV", class: "IN", ttl: TTL, data: { priority: 0, weight, port: p, target } });
    if (!headless) return { rcode: "NOERROR", answers: [srv(fqdn, port.port, 100)], additionals: [a(fqdn, svc.spec!.clusterIp)] };
    const eps = readyEndpoints(view, svc).filter((e) => e.ports.has(`${portName}/${proto}`));
    const weight = eps.length ? Math.floor(100 / eps.length) : 0;
    const target = (e: ReadyEndpoint): string => `${e.hostname || dashed(e.ip)}.${fqdn}`;
    return {
      rcode: "NOERROR",
      answers: eps.map((e) => srv(target(e), e.ports.get(`${portName}/${proto}`)!.port, weight)),
      additionals: eps.map((e) => a(target(e), e.ip)),
    };
  }
  return NX;
}
