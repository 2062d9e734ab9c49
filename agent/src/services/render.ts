// The model as one nftables table, after kube-proxy's nftables mode
// (pkg/proxy/nftables): the same hooks and priorities, chain names and maps,
// plus one thing kube-proxy has no need of: tenants. In bridge mode every pod
// of the node shares the host's L3, so each tenant has a set of its pod IPs
// on this node and a map of its own cluster IPs, and a cluster IP is looked
// up only for sources in its tenant's set. Traffic into the service range
// that no rule took (another tenant's cluster IP, an unknown port or address)
// is refused at once, as is a Service with no endpoints (kube-proxy's REJECT):
// a connection fails, it never hangs.
//
//   services            per tenant: ip saddr @tenant-T  daddr.proto.port vmap @service-ips-T
//                       load-balancer IPs and node ports for any source (masqueraded)
//   service-<id>-<ns>/<name>/<proto>/<port>    affinity, then numgen random mod N vmap
//   endpoint-<id>-...__<ip>/<port>            hairpin masquerade, affinity update, dnat
//
// Everything here is text made from the checked model (model.ts).
import type { ProxyModel, ServicePortModel } from "./model";
import { shortHash } from "./model";

export const MASQ_MARK = "0x4000";
const TABLE_COMMENT = "k8shost-agent: Services (kube-proxy's nftables mode), rewritten whole on every change";

export interface Rendered {
  /** The desired table, as `add` commands, without any flush or delete. */
  script: string;
  chains: Set<string>;
  /** Sets and maps flushed and refilled each time. */
  sets: Set<string>;
  /** Affinity sets: kept (with their entries) as long as they are wanted. */
  affinitySets: Set<string>;
  /** Rules per chain and elements per set or map (affinity sets' are the kernel's): the drift check's counts. */
  counts: Counts;
}

export interface Counts {
  rules: Map<string, number>;
  elements: Map<string, number>;
}

const BASE_CHAINS: [string, string][] = [
  ["nat-prerouting", "type nat hook prerouting priority -100; policy accept;"],
  ["nat-output", "type nat hook output priority -100; policy accept;"],
  ["nat-postrouting", "type nat hook postrouting priority 100; policy accept;"],
  ["filter-input", "type filter hook input priority -110; policy accept;"],
  ["filter-forward", "type filter hook forward priority -110; policy accept;"],
  ["filter-output", "type filter hook output priority -110; policy accept;"],
  ["filter-output-post-dnat", "type filter hook output priority -90; policy accept;"],
];

const KEY3 = "ipv4_addr . inet_proto . inet_service";
const KEY2 = "inet_proto . inet_service";

const serviceChain = (p: ServicePortModel): string => `service-${p.id}-${p.label}`;
const externalChain = (p: ServicePortModel): string => `external-${p.id}-${p.label}`;
const endpointId = (p: ServicePortModel, ep: { ip: string; port: number }): string => shortHash(p.id, ep.ip, String(ep.port));
const endpointChain = (p: ServicePortModel, ep: { ip: string; port: number }): string => `endpoint-${endpointId(p, ep)}-${p.label}__${ep.ip}/${ep.port}`;
/** The timeout is part of the name: a changed timeout is a new set, as a set's timeout cannot change. */
const affinitySet = (p: ServicePortModel, ep: { ip: string; port: number }): string => `affinity-${shortHash(endpointId(p, ep), String(p.affinitySeconds))}`;

export function render(model: ProxyModel, table: string): Rendered {
  const T = `ip ${table}`;
  const chains = new Set<string>();
  const sets = new Set<string>();
  const affinitySets = new Set<string>();
  const decl: string[] = [];
  const elems: string[] = [];
  const rules: string[] = [];
  const counts: Counts = { rules: new Map(), elements: new Map() };
  const bump = (m: Map<string, number>, k: string, n: number): void => void m.set(k, (m.get(k) ?? 0) + n);
  const chain = (name: string, spec = ""): void => {
    chains.add(name);
    decl.push(`add chain ${T} ${name}${spec ? ` { ${spec} }` : ""}`);
  };
  const set = (name: string, spec: string, affinity = false): void => {
    (affinity ? affinitySets : sets).add(name);
    decl.push(`add set ${T} ${name} { ${spec} }`);
  };
  const map = (name: string, key: string, comment = ""): void => {
    sets.add(name);
    decl.push(`add map ${T} ${name} { type ${key} : verdict;${comment ? ` comment "${comment}";` : ""} }`);
  };
  const rule = (c: string, r: string): void => {
    rules.push(`add rule ${T} ${c} ${r}`);
    bump(counts.rules, c, 1);
  };
  const elem = (s: string, e: string[]): void => {
    if (!e.length) return;
    elems.push(`add element ${T} ${s} { ${e.join(", ")} }`);
    bump(counts.elements, s, e.length);
  };

  for (const [name, spec] of BASE_CHAINS) chain(name, spec);
  for (const c of ["services", "service-endpoints-check", "nodeport-endpoints-check", "cluster-ips-check", "reject-chain", "mark-for-masquerade", "masquerading"]) chain(c);
  map("no-endpoint-services", KEY3, "cluster and load-balancer IPs of Services with no endpoints");
  map("no-endpoint-nodeports", KEY2, "node ports of Services with no endpoints");
  map("service-nodeports", KEY2, "node ports");
  map("external-ips", KEY3, "load-balancer IPs");

  rule("nat-prerouting", "jump services");
  rule("nat-output", "jump services");
  rule("nat-postrouting", "jump masquerading");
  rule("filter-input", "ct state new jump nodeport-endpoints-check");
  rule("filter-input", "ct state new jump service-endpoints-check");
  rule("filter-forward", "ct state new jump service-endpoints-check");
  rule("filter-forward", "ct state new jump cluster-ips-check");
  rule("filter-output", "ct state new jump service-endpoints-check");
  rule("filter-output-post-dnat", "ct state new jump cluster-ips-check");
  rule("service-endpoints-check", "ip daddr . meta l4proto . th dport vmap @no-endpoint-services");
  rule("nodeport-endpoints-check", "fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports");
  rule("cluster-ips-check", `ip daddr ${model.serviceCIDR} reject comment "no Service for this source, address and port"`);
  rule("reject-chain", "reject");
  rule("mark-for-masquerade", `meta mark set meta mark | ${MASQ_MARK}`);
  rule("masquerading", `meta mark & ${MASQ_MARK} == 0 return`);
  rule("masquerading", `meta mark set meta mark ^ ${MASQ_MARK}`);
  rule("masquerading", "masquerade fully-random");

  const tenantMaps = new Map<string, string[]>();
  for (const t of model.tenants) {
    set(`tenant-${t.id}`, "type ipv4_addr;");
    map(`service-ips-${t.id}`, KEY3);
    elem(`tenant-${t.id}`, t.podIPs);
    tenantMaps.set(t.id, []);
    rule("services", `ip saddr @tenant-${t.id} ip daddr . meta l4proto . th dport vmap @service-ips-${t.id}`);
  }
  rule("services", "ip daddr . meta l4proto . th dport vmap @external-ips");
  rule("services", "fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports");

  const noEndpoints: string[] = [];
  const noEndpointNodePorts: string[] = [];
  const nodePorts: string[] = [];
  const externalIps: string[] = [];
  for (const p of model.ports) {
    const key = (ip: string): string => `${ip} . ${p.protocol} . ${p.port}`;
    if (p.endpoints.length === 0) {
      noEndpoints.push(`${key(p.clusterIP)} : goto reject-chain`, ...p.externalIPs.map((ip) => `${key(ip)} : goto reject-chain`));
      if (p.nodePort) noEndpointNodePorts.push(`${p.protocol} . ${p.nodePort} : goto reject-chain`);
      continue;
    }
    const svc = serviceChain(p);
    chain(svc);
    tenantMaps.get(p.tenant)?.push(`${key(p.clusterIP)} : goto ${svc}`);
    if (p.nodePort || p.externalIPs.length) {
      // From outside the tenant's pods: masqueraded so the reply comes back through this node.
      const ext = externalChain(p);
      chain(ext);
      rule(ext, "jump mark-for-masquerade");
      rule(ext, `goto ${svc}`);
      if (p.nodePort) nodePorts.push(`${p.protocol} . ${p.nodePort} : goto ${ext}`);
      externalIps.push(...p.externalIPs.map((ip) => `${key(ip)} : goto ${ext}`));
    }
    const eps = p.endpoints.map((ep) => ({ ep, chain: endpointChain(p, ep), affinity: affinitySet(p, ep) }));
    for (const e of eps) {
      chain(e.chain);
      rule(e.chain, `ip saddr ${e.ep.ip} jump mark-for-masquerade`); // hairpin: the pod reaches itself
      if (p.affinitySeconds) {
        set(e.affinity, `type ipv4_addr; flags dynamic,timeout; timeout ${p.affinitySeconds}s;`, true);
        rule(e.chain, `update @${e.affinity} { ip saddr }`);
      }
      rule(e.chain, `meta l4proto ${p.protocol} dnat to ${e.ep.ip}:${e.ep.port}`);
      if (p.affinitySeconds) rule(svc, `ip saddr @${e.affinity} goto ${e.chain}`);
    }
    rule(svc, `numgen random mod ${eps.length} vmap { ${eps.map((e, i) => `${i} : goto ${e.chain}`).join(", ")} }`);
  }
  for (const [id, e] of tenantMaps) elem(`service-ips-${id}`, e);
  elem("no-endpoint-services", noEndpoints);
  elem("no-endpoint-nodeports", noEndpointNodePorts);
  elem("service-nodeports", nodePorts);
  elem("external-ips", externalIps);
  return { script: [`add table ${T}`, ...decl, ...elems, ...rules].join("\n") + "\n", chains, sets, affinitySets, counts };
}

export interface Existing {
  chains: Set<string>;
  /** Sets and maps by name. */
  sets: Map<string, "set" | "map">;
  /** As the kernel holds them; absent where nothing was counted (a fake in a unit test). */
  counts?: Counts;
}

/**
 * One transaction from whatever the table holds now to `r`: every rule
 * flushed, every set and map emptied (affinity sets excepted) or deleted when
 * no longer wanted, stale chains deleted, then the table as rendered. nft
 * applies a file atomically: the packet path sees the old table or the new.
 */
export function transaction(r: Rendered, existing: Existing | undefined, table: string): string {
  const T = `ip ${table}`;
  const out: string[] = [`add table ${T} { comment "${TABLE_COMMENT}"; }`, `flush table ${T}`];
  for (const [name, kind] of existing?.sets ?? []) {
    if (r.affinitySets.has(name)) continue;
    out.push(r.sets.has(name) ? `flush ${kind} ${T} ${name}` : `delete ${kind} ${T} ${name}`);
  }
  for (const c of existing?.chains ?? []) if (!r.chains.has(c)) out.push(`delete chain ${T} ${c}`);
  return out.join("\n") + "\n" + r.script;
}
