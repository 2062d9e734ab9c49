// The OVN load-balancer reconciler's decisions without OVN: what the Services
// and slices become (ovn-lb-model.ts) and which ovn-nbctl commands turn a
// northbound state into that (ovn-lb-nb.ts plan), including doing nothing
// when it already matches. Traffic through real OVN: test/integration/ovn-lb.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EndpointSlice, Service } from "@plasmacloud/proto/k8shost";
import { desiredLbs, lbName, tenantKey } from "../../src/novanet/ovn-lb-model.js";
import { parseState, plan, serviceRangeAcl, type NbState, type PlanInput } from "../../src/novanet/ovn-lb-nb.js";

const A = { orgId: "org-a", projectId: "proj/a" };
const svc = (name: string, spec: object, t = A): Service =>
  Service.fromPartial({ metadata: { name, namespace: "default", ...t }, spec: { type: "ClusterIP", ...spec } });
const ep = (ip: string, c: { ready?: boolean; serving?: boolean; terminating?: boolean }) => ({ addresses: [ip], conditions: c });
const slice = (svcName: string, ports: object[], endpoints: object[], t = A): EndpointSlice =>
  EndpointSlice.fromPartial({ metadata: { name: `${svcName}-x`, namespace: "default", ...t, labels: { "kubernetes.io/service-name": svcName } }, addressType: "IPv4", ports, endpoints });

const web = svc("web", { clusterIp: "10.96.0.5", ports: [{ name: "http", port: 80, protocol: "TCP" }, { name: "h2", port: 81, protocol: "TCP" }, { name: "dns", port: 53, protocol: "UDP" }] });
const webSlice = slice("web", [{ name: "http", port: 8080, protocol: "TCP" }, { name: "dns", port: 5353, protocol: "UDP" }], [
  ep("10.0.0.3", { ready: true }), ep("10.0.0.2", {}), ep("10.0.0.4", { ready: false, serving: false }), ep("10.0.0.9", { ready: false, serving: true, terminating: true }),
]);

test("one LB per Service and protocol: ready endpoints only, named ports per slice, reject when none", () => {
  const { lbs, problems } = desiredLbs("nv", [web], [webSlice]);
  assert.deepEqual(problems, []);
  assert.deepEqual(lbs.map((l) => l.name), [lbName("nv", { ...A, namespace: "default", name: "web" }, "tcp"), lbName("nv", { ...A, namespace: "default", name: "web" }, "udp")]);
  assert.equal(lbs[0]!.name, "nv/lb/org-a/proj%2Fa/default/web/tcp", "every part encoded under the prefix");
  assert.deepEqual(lbs[0]!.vips, { "10.96.0.5:80": "10.0.0.2:8080,10.0.0.3:8080", "10.96.0.5:81": "" }, "unset readiness is ready; h2 resolves on no endpoint");
  assert.deepEqual(lbs[1]!.vips, { "10.96.0.5:53": "10.0.0.2:5353,10.0.0.3:5353" });
  assert.deepEqual(lbs[0]!.options, { reject: "true", ct_flush: "true" });
  assert.deepEqual(lbs[0]!.externalIds, { "novanet-owner": "nv", "novanet-kind": "service", "novanet-tenant": tenantKey(A), "novanet-service": "default/web" });
});

test("terminating serving endpoints only when none is ready (KEP-1669); affinity; LB ingress IPs; skipped objects", () => {
  const only = slice("web", [{ name: "http", port: 8080, protocol: "TCP" }], [ep("10.0.0.9", { ready: false, serving: true, terminating: true }), ep("10.0.0.4", { ready: false })]);
  const lb = svc("web", { type: "LoadBalancer", clusterIp: "10.96.0.5", sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIp: { timeoutSeconds: 86400 } }, ports: [{ name: "http", port: 80 }] });
  lb.status = { loadBalancer: { ingress: [{ ip: "192.0.2.7", hostname: "" }, { ip: "not-an-ip", hostname: "" }] } };
  const { lbs, problems } = desiredLbs("nv", [lb, svc("hl", { clusterIp: "None", ports: [{ port: 80 }] }), svc("bad", { clusterIp: "10.96.0.999", ports: [{ port: 80 }] })], [only]);
  assert.equal(lbs.length, 1, "headless and malformed Services make no LB");
  assert.deepEqual(lbs[0]!.vips, { "10.96.0.5:80": "10.0.0.9:8080", "192.0.2.7:80": "10.0.0.9:8080" });
  assert.equal(lbs[0]!.options.affinity_timeout, "65535", "ClientIP timeout, capped at OVN's maximum");
  assert.deepEqual(problems, ["service org-a/proj/a/default/bad: cluster IP '10.96.0.999' is not an IPv4 address"]);
});

const { lbs } = desiredLbs("nv", [web], [webSlice]);
const [tcp, udp] = [lbs[0]!, lbs[1]!];
const switches = new Map([[tenantKey(A), ["nv/ls/a1", "nv/ls/a2"]], [tenantKey({ orgId: "org-b", projectId: "b" }), ["nv/ls/b1"]]]);
const input = (actual: NbState, over: Partial<PlanInput> = {}): PlanInput => ({ prefix: "nv", desired: lbs, tenantSwitches: switches, serviceCidr: "10.96.0.0/16", complete: true, actual, ...over });
const acl = { uuid: "acl-1", ...serviceRangeAcl("10.96.0.0/16") };
const synced: NbState = {
  lbs: [{ uuid: "u-tcp", name: tcp.name, protocol: "tcp", vips: tcp.vips, options: tcp.options, externalIds: tcp.externalIds },
    { uuid: "u-udp", name: udp.name, protocol: "udp", vips: udp.vips, options: udp.options, externalIds: udp.externalIds }],
  switches: [{ name: "nv/ls/a1", lbs: ["u-tcp", "u-udp"], acls: ["acl-1"] }, { name: "nv/ls/a2", lbs: ["u-tcp", "u-udp"], acls: ["acl-1"] }, { name: "nv/ls/b1", lbs: [], acls: ["acl-1"] }],
  acls: [acl],
};

test("plan: nothing to write when NB matches", () => {
  assert.deepEqual(plan(input(synced)), []);
});

test("plan: from nothing, LBs created and attached to the tenant's existing switches, the ACL on every subnet switch", () => {
  const empty: NbState = { lbs: [], switches: [{ name: "nv/ls/a1", lbs: [], acls: [] }, { name: "nv/ls/b1", lbs: [], acls: [] }], acls: [] };
  const cmds = plan(input(empty));
  assert.deepEqual(cmds.filter((c) => c.includes("ls-lb-add")), [["--may-exist", "ls-lb-add", "nv/ls/a1", tcp.name], ["--may-exist", "ls-lb-add", "nv/ls/a1", udp.name]], "a2 is not in NB yet; b1 is another tenant's");
  assert.deepEqual(cmds[0], ["create", "Load_Balancer", `name="${tcp.name}"`, "protocol=tcp", 'vips={"10.96.0.5:80"="10.0.0.2:8080,10.0.0.3:8080", "10.96.0.5:81"=""}',
    'options={"ct_flush"="true", "reject"="true"}', `external_ids={"novanet-kind"="service", "novanet-owner"="nv", "novanet-service"="default/web", "novanet-tenant"="org-a/proj%2Fa"}`]);
  assert.deepEqual(cmds.filter((c) => c.includes("ACL") || c.includes("acls")), [
    ["--id=@acl", "create", "ACL", "direction=from-lport", "priority=32000", 'match="ip4.dst == 10.96.0.0/16"', "action=reject", 'options={"apply-after-lb"="true"}', 'external_ids={"novanet-kind"="service-range", "novanet-owner"="nv"}'],
    ["add", "Logical_Switch", "nv/ls/a1", "acls", "@acl"],
    ["add", "Logical_Switch", "nv/ls/b1", "acls", "@acl"],
  ]);
});

test("plan: changed endpoints update in place; a wrong switch is detached; duplicates and stale LBs go only on a complete view", () => {
  const st: NbState = structuredClone(synced);
  st.lbs[0]!.vips = { "10.96.0.5:80": "10.0.0.2:8080" };
  st.switches[2]!.lbs = ["u-tcp"]; // on tenant B's switch
  st.lbs.push({ ...st.lbs[1]!, uuid: "u-dup" }, { uuid: "u-old", name: "nv/lb/org-a/proj%2Fa/default/gone/tcp", protocol: "tcp", vips: {}, options: {}, externalIds: {} });
  const cmds = plan(input(st));
  assert.deepEqual(cmds, [
    ["lb-del", "u-dup"],
    ["lb-del", "u-old"],
    ["set", "Load_Balancer", "u-tcp", "protocol=tcp", `vips={"10.96.0.5:80"="10.0.0.2:8080,10.0.0.3:8080", "10.96.0.5:81"=""}`, 'options={"ct_flush"="true", "reject"="true"}',
      'external_ids={"novanet-kind"="service", "novanet-owner"="nv", "novanet-service"="default/web", "novanet-tenant"="org-a/proj%2Fa"}'],
    ["--if-exists", "ls-lb-del", "nv/ls/b1", "u-tcp"],
  ]);
  assert.ok(!plan(input(st, { complete: false })).some((c) => c[1] === "u-old"), "a partial view deletes no Service's LB");
  assert.ok(plan(input(st, { complete: false })).some((c) => c[1] === "u-dup"), "duplicates of a wanted name go regardless");
});

test("plan: another service range replaces the ACL; none detaches ours", () => {
  const moved = plan(input(synced, { serviceCidr: "10.97.0.0/16" }));
  assert.deepEqual(moved.filter((c) => c[0] === "remove").map((c) => c[2]), ["nv/ls/a1", "nv/ls/a2", "nv/ls/b1"]);
  assert.equal(moved.filter((c) => c.includes("create")).length, 1);
  assert.deepEqual(plan(input(synced, { serviceCidr: "" })), ["nv/ls/a1", "nv/ls/a2", "nv/ls/b1"].map((s) => ["remove", "Logical_Switch", s, "acls", "acl-1"]));
});

test("parseState reads ovn-nbctl --format=json cells (uuid, set, map, empty optional)", () => {
  const out = [
    JSON.stringify({ headings: ["_uuid", "name", "protocol", "vips", "options", "external_ids"], data: [[["uuid", "u1"], "n1", ["set", []], ["map", [["10.96.0.1:80", ""]]], ["map", []], ["map", [["novanet-owner", "nv"]]]]] }),
    JSON.stringify({ headings: ["name", "load_balancer", "acls"], data: [["s1", ["uuid", "u1"], ["set", [["uuid", "a1"], ["uuid", "a2"]]]], ["s2", ["set", []], ["set", []]]] }),
    JSON.stringify({ headings: ["_uuid", "direction", "priority", "match", "action", "options"], data: [[["uuid", "a1"], "from-lport", 32000, "ip4.dst == 10.96.0.0/16", "reject", ["map", [["apply-after-lb", "true"]]]]] }),
  ].join("\n");
  assert.deepEqual(parseState(out), {
    lbs: [{ uuid: "u1", name: "n1", protocol: "", vips: { "10.96.0.1:80": "" }, options: {}, externalIds: { "novanet-owner": "nv" } }],
    switches: [{ name: "s1", lbs: ["u1"], acls: ["a1", "a2"] }, { name: "s2", lbs: [], acls: [] }],
    acls: [{ uuid: "a1", direction: "from-lport", priority: 32000, match: "ip4.dst == 10.96.0.0/16", action: "reject", options: { "apply-after-lb": "true" } }],
  });
});
