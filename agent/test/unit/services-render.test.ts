// The Services table as text (no nft run here; the integration test applies
// it): kube-proxy's nftables structure, tenants kept apart by source sets,
// endpoint choice, affinity, node ports, rejection, and the transaction that
// replaces whatever the table held.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { EndpointSlice, Service } from "@plasmacloud/proto/k8shost";
import { buildModel, tenantId } from "../../src/services/model";
import { render, transaction } from "../../src/services/render";

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

function svc(name: string, org: string, clusterIp: string, spec: DeepPartial<NonNullable<Service["spec"]>> = {}, ingress: string[] = []): Service {
  return {
    metadata: { name, namespace: "default", orgId: org, projectId: "p", uid: "", labels: {}, annotations: {}, resourceVersion: "", creationTimestamp: undefined, deletionTimestamp: undefined, generation: 1n },
    spec: { type: "ClusterIP", clusterIp, clusterIps: [clusterIp], selector: {}, sessionAffinity: "None", sessionAffinityConfig: undefined, ports: [{ name: "http", protocol: "TCP", port: 80, targetPort: "http", nodePort: 0 }], ...spec } as Service["spec"],
    status: { loadBalancer: { ingress: ingress.map((ip) => ({ ip, hostname: "" })) } },
  };
}

type Ep = { ip: string; ready?: boolean; serving?: boolean; terminating?: boolean };
function slice(service: string, org: string, eps: Ep[], port = 8080): EndpointSlice {
  return {
    metadata: { name: `${service}-x`, namespace: "default", orgId: org, projectId: "p", uid: "", labels: { "kubernetes.io/service-name": service }, annotations: {}, resourceVersion: "", creationTimestamp: undefined, deletionTimestamp: undefined, generation: 1n },
    addressType: "IPv4",
    endpoints: eps.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false }, hostname: "", targetRef: undefined, nodeName: "n" })),
    ports: [{ name: "http", protocol: "TCP", port }],
  };
}

const pods = new Map([
  [tenantId({ orgId: "a", projectId: "p" }), { tenant: { orgId: "a", projectId: "p" }, ips: new Set(["10.77.0.5", "10.77.0.6"]) }],
  [tenantId({ orgId: "b", projectId: "p" }), { tenant: { orgId: "b", projectId: "p" }, ips: new Set(["10.78.0.5"]) }],
]);
const A = tenantId({ orgId: "a", projectId: "p" });
const B = tenantId({ orgId: "b", projectId: "p" });

function table(services: Service[], slices: EndpointSlice[]) {
  const { model, problems } = buildModel(services, slices, pods, "10.96.0.0/16");
  const r = render(model, "k8shost");
  const lines = r.script.split("\n");
  return { model, problems, r, lines, has: (re: RegExp) => lines.some((l) => re.test(l)), grep: (re: RegExp) => lines.filter((l) => re.test(l)) };
}

test("a tenant's cluster IPs are looked up only for its own pods' addresses; anything else in the range is refused", () => {
  const t = table([svc("web", "a", "10.96.1.5"), svc("web", "b", "10.96.1.9")], [slice("web", "a", [{ ip: "10.77.0.5" }]), slice("web", "b", [{ ip: "10.78.0.5" }])]);
  assert.ok(t.has(new RegExp(`^add element ip k8shost tenant-${A} \\{ 10\\.77\\.0\\.5, 10\\.77\\.0\\.6 \\}$`)));
  assert.ok(t.has(new RegExp(`^add element ip k8shost tenant-${B} \\{ 10\\.78\\.0\\.5 \\}$`)));
  const [mapA] = t.grep(new RegExp(`^add element ip k8shost service-ips-${A} `));
  const [mapB] = t.grep(new RegExp(`^add element ip k8shost service-ips-${B} `));
  assert.match(mapA!, /10\.96\.1\.5 \. tcp \. 80 : goto service-\w+-default\/web\/tcp\/http/);
  assert.doesNotMatch(mapA!, /10\.96\.1\.9/, "b's cluster IP is not in a's map");
  assert.doesNotMatch(mapB!, /10\.96\.1\.5/);
  assert.ok(t.has(new RegExp(`^add rule ip k8shost services ip saddr @tenant-${A} ip daddr \\. meta l4proto \\. th dport vmap @service-ips-${A}$`)));
  assert.ok(t.has(/^add rule ip k8shost cluster-ips-check ip daddr 10\.96\.0\.0\/16 reject/));
  assert.ok(t.has(/^add rule ip k8shost filter-forward ct state new jump cluster-ips-check$/));
  assert.ok(t.has(/^add chain ip k8shost filter-output-post-dnat \{ type filter hook output priority -90; policy accept; \}$/));
});

test("ready endpoints are balanced with numgen; unready ones leave; terminating-but-serving ones stand in only when none is ready", () => {
  let t = table([svc("web", "a", "10.96.1.5")], [slice("web", "a", [{ ip: "10.77.0.5" }, { ip: "10.77.0.6" }, { ip: "10.77.0.7", ready: false }])]);
  const [lb] = t.grep(/^add rule ip k8shost service-\w+-default\/web\/tcp\/http numgen/);
  assert.match(lb!, /numgen random mod 2 vmap \{ 0 : goto endpoint-\w+-default\/web\/tcp\/http__10\.77\.0\.5\/8080, 1 : goto endpoint-\w+-default\/web\/tcp\/http__10\.77\.0\.6\/8080 \}$/);
  assert.ok(t.has(/endpoint-\w+-default\/web\/tcp\/http__10\.77\.0\.5\/8080 meta l4proto tcp dnat to 10\.77\.0\.5:8080$/));
  assert.ok(t.has(/endpoint-\w+-default\/web\/tcp\/http__10\.77\.0\.5\/8080 ip saddr 10\.77\.0\.5 jump mark-for-masquerade$/), "hairpin is masqueraded");
  assert.ok(!t.has(/10\.77\.0\.7/));

  t = table([svc("web", "a", "10.96.1.5")], [slice("web", "a", [{ ip: "10.77.0.5", ready: false, serving: true, terminating: true }, { ip: "10.77.0.6", ready: false, serving: false, terminating: true }])]);
  assert.ok(t.has(/numgen random mod 1 vmap \{ 0 : goto endpoint-\w+-default\/web\/tcp\/http__10\.77\.0\.5\/8080 \}/));
});

test("a Service without endpoints is rejected on its cluster IP, load-balancer IPs and node port; nothing is DNATed", () => {
  const t = table([svc("np", "a", "10.96.1.6", { type: "LoadBalancer", ports: [{ name: "http", protocol: "TCP", port: 80, targetPort: "http", nodePort: 30080 }] }, ["192.0.2.50"])], [slice("np", "a", [])]);
  assert.ok(t.has(/^add element ip k8shost no-endpoint-services \{ 10\.96\.1\.6 \. tcp \. 80 : goto reject-chain, 192\.0\.2\.50 \. tcp \. 80 : goto reject-chain \}$/));
  assert.ok(t.has(/^add element ip k8shost no-endpoint-nodeports \{ tcp \. 30080 : goto reject-chain \}$/));
  assert.ok(t.has(/^add rule ip k8shost reject-chain reject$/));
  assert.ok(!t.has(/ dnat to /));
  assert.ok(!t.has(new RegExp(`^add element ip k8shost service-ips-${A} `)), "nothing in the tenant's map");
});

test("node ports and load-balancer IPs go through an external chain that masquerades; ClientIP affinity keeps a source on its endpoint", () => {
  const spec = { type: "LoadBalancer", sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIp: { timeoutSeconds: 60 } }, ports: [{ name: "http", protocol: "TCP", port: 80, targetPort: "http", nodePort: 30080 }] };
  const t = table([svc("lb", "a", "10.96.1.7", spec, ["192.0.2.50"])], [slice("lb", "a", [{ ip: "10.77.0.5" }, { ip: "10.77.0.6" }])]);
  assert.ok(t.has(/^add element ip k8shost service-nodeports \{ tcp \. 30080 : goto external-\w+-default\/lb\/tcp\/http \}$/));
  assert.ok(t.has(/^add element ip k8shost external-ips \{ 192\.0\.2\.50 \. tcp \. 80 : goto external-\w+-default\/lb\/tcp\/http \}$/));
  assert.deepEqual(t.grep(/^add rule ip k8shost external-/).map((l) => l.replace(/^add rule ip k8shost external-\S+ /, "")), ["jump mark-for-masquerade", `goto ${t.grep(/^add chain ip k8shost service-\w+-default/)[0]!.split(" ")[4]}`]);
  const sets = t.grep(/^add set ip k8shost affinity-/);
  assert.equal(sets.length, 2);
  for (const s of sets) assert.match(s, /\{ type ipv4_addr; flags dynamic,timeout; timeout 60s; \}$/);
  const svcRules = t.grep(/^add rule ip k8shost service-\w+-default/).map((l) => l.split(" ").slice(5).join(" "));
  assert.match(svcRules[0]!, /^ip saddr @affinity-\w+ goto endpoint-/);
  assert.match(svcRules[1]!, /^ip saddr @affinity-\w+ goto endpoint-/);
  assert.match(svcRules[2]!, /^numgen random mod 2/, "affinity is looked up before the random pick");
  assert.equal(t.grep(/update @affinity-\w+ \{ ip saddr \}$/).length, 2);
  assert.ok(t.has(/^add rule ip k8shost services fib daddr type local ip daddr != 127\.0\.0\.0\/8 meta l4proto \. th dport vmap @service-nodeports$/));
});

test("headless Services get no rules; malformed objects are skipped with a reason and never reach the ruleset", () => {
  const evil = svc("web", "a", "10.96.1.5");
  evil.metadata!.namespace = "x; flush ruleset";
  const badPort = svc("port", "a", "10.96.1.8", { ports: [{ name: "a b", protocol: "TCP", port: 80, targetPort: "80", nodePort: 0 }] });
  const outside = svc("out", "a", "10.0.0.1");
  const badEp = slice("ok", "a", [{ ip: "10.77.0.5 } ; flush ruleset ; {" }]);
  const t = table([svc("db", "a", "None"), evil, badPort, outside, svc("ok", "a", "10.96.1.10")], [badEp]);
  assert.equal(t.model.ports.length, 1);
  assert.equal(t.model.ports[0]!.endpoints.length, 0, "the bad address is no endpoint");
  assert.ok(!t.has(/flush ruleset|a b|10\.0\.0\.1/));
  assert.equal(t.problems.length, 3);
  assert.match(t.problems.join("\n"), /not DNS labels/);
  assert.match(t.problems.join("\n"), /cluster IP '10\.0\.0\.1' is not an address in services\.serviceCIDR 10\.96\.0\.0\/16/);
});

test("the same objects in any order give the same text; the transaction flushes, empties, deletes what is stale and keeps affinity state", () => {
  const services = [svc("a1", "a", "10.96.1.5"), svc("b1", "b", "10.96.1.6", { sessionAffinity: "ClientIP" })];
  const slices = [slice("a1", "a", [{ ip: "10.77.0.6" }, { ip: "10.77.0.5" }]), slice("b1", "b", [{ ip: "10.78.0.5" }])];
  const one = table(services, slices).r;
  const two = table([...services].reverse(), [...slices].reverse()).r;
  assert.equal(one.script, two.script);
  const aff = [...one.affinitySets][0]!;
  const existing = { chains: new Set([...one.chains, "service-OLD-default/gone/tcp/"]), sets: new Map<string, "set" | "map">([["tenant-OLD", "set"], [`service-ips-${A}`, "map"], [aff, "set"], ["affinity-OLD", "set"]]) };
  const tx = transaction(one, existing, "k8shost").split("\n");
  assert.match(tx[0]!, /^add table ip k8shost \{ comment "/);
  assert.equal(tx[1], "flush table ip k8shost");
  assert.ok(tx.includes(`flush map ip k8shost service-ips-${A}`));
  assert.ok(tx.includes("delete set ip k8shost tenant-OLD"));
  assert.ok(tx.includes("delete set ip k8shost affinity-OLD"));
  assert.ok(tx.includes("delete chain ip k8shost service-OLD-default/gone/tcp/"));
  assert.ok(!tx.some((l) => l.includes(aff) && /^(flush|delete)/.test(l)), "the wanted affinity set keeps its entries");
  assert.ok(tx.indexOf("delete chain ip k8shost service-OLD-default/gone/tcp/") < tx.indexOf("add table ip k8shost"), "stale objects go before the table is written again");
});
