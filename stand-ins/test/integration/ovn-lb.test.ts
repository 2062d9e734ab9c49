// Services in novanet's ovs mode, for real: the NovaNET stand-in's service
// controller (stand-ins/src/novanet/ovn-lb.ts) watches the control-plane
// stand-in over gRPC and programs OVN load balancers; pods are netns attached
// by the real novanet executable in ovs mode on br-int (cni-plugin's test
// helpers), registered in the control plane as their user and node would.
// From inside the pods: a cluster IP answers over TCP and UDP from both ready
// backends (one on another subnet), never from a not-ready one; a Service
// without ready endpoints and a deleted one refuse at once; a pod reaches
// itself through its Service (hairpin); another tenant's pod is refused.
// From outside with ovn-nbctl: the rows, their switches, and nothing left.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Service } from "@plasmacloud/proto/k8shost";
import { ControlPlane } from "../../../agent/src/controlplane/client.js";
import { ensureBuilt } from "../../../cni-plugin/test/helpers/build.js";
import { sh } from "../../../cni-plugin/test/helpers/exec.js";
import { deleteAllNetns } from "../../../cni-plugin/test/helpers/netns.js";
import { startFixture, type Fixture } from "../../../cni-plugin/test/helpers/novanet.js";
import { OVN_NB, ensureOvn, nbctl, waitBound } from "../../../cni-plugin/test/helpers/ovn.js";
import { ovsPorts } from "../../../cni-plugin/test/helpers/ovs.js";
import { addPod, delPod, type Pod } from "../../../cni-plugin/test/helpers/pods.js";
import { stopPeers } from "../../../cni-plugin/test/helpers/traffic.js";
import { startControlPlaneStandIn, type ControlPlaneStandIn } from "../../src/controlplane/server.js";
import { TokenStore } from "../../src/iam/tokens.js";
import { startOvnLoadBalancers, type OvnLoadBalancers } from "../../src/novanet/ovn-lb.js";
import { createService, deleteService, lbRows, owned, probe, registerPod, seenFrom, serve, setReady, stopServers, switchLbs, waitFor, type PodRef } from "./ovn-lb-env.js";

const prefix = `l${process.pid}`;
const NODE = "n-lb";
const A = { orgId: "org-lb-a", projectId: "proj-lb-a" };
const B = { orgId: "org-lb-b", projectId: "proj-lb-b" };
const A1 = { id: `lb-a1-${process.pid}`, ...A, cidr: "10.213.60.0/24", gatewayIp: "10.213.60.1" };
const A2 = { id: `lb-a2-${process.pid}`, ...A, cidr: "10.213.61.0/24", gatewayIp: "10.213.61.1" };
const B1 = { id: `lb-b1-${process.pid}`, ...B, cidr: "10.213.62.0/24", gatewayIp: "10.213.62.1" };
const PORT = 8080;
const dir = mkdtempSync(join(tmpdir(), "ovn-lb-"));
const tokens = new TokenStore()
  .add("lb-user-a", { name: "user:a", kind: "user", ...A })
  .add("lb-user-b", { name: "user:b", kind: "user", ...B })
  .add("lb-node", { name: `system:node:${NODE}`, kind: "node", orgId: "", projectId: "", nodeName: NODE });
let cp: ControlPlaneStandIn;
let fx: Fixture;
let closed = false;
let lb: OvnLoadBalancers | undefined;
let userA: ControlPlane;
let userB: ControlPlane;
let node: ControlPlane;
const pods: Record<string, Pod> = {};
const refs: Record<string, PodRef> = {};
const svcs: Record<string, Service> = {};
const client = (name: string): ControlPlane => {
  writeFileSync(join(dir, name), `${name}\n`, { mode: 0o600 });
  return new ControlPlane(cp.address, join(dir, name), "", 5000);
};
const ip = (s: Service): string => s.spec!.clusterIp;
const sw = (id: string): string => fx.novanet.ovn!.switchName(id);

before(async () => {
  ensureBuilt();
  ensureOvn();
  cp = await startControlPlaneStandIn({ tokens });
  fx = await startFixture([A1, A2, B1], { ovn: { nbDb: OVN_NB, prefix } });
  [userA, userB, node] = [client("lb-user-a"), client("lb-user-b"), client("lb-node")];
  lb = startOvnLoadBalancers({
    nbDb: OVN_NB, ovn: fx.novanet.ovn!, subnets: () => fx.novanet.subnets(), controlPlane: cp.address,
    tokenFiles: [join(dir, "lb-user-a"), join(dir, "lb-user-b")], resyncMs: 2000,
  });
  // cl: tenant A's client; w1, w2 (on A's other subnet), w3: web backends (w3 never ready at first); bx, by: tenant B.
  const layout = [["cl", A1], ["w1", A1], ["w2", A2], ["w3", A1], ["bx", B1], ["by", B1]] as const;
  for (const [tag, s] of layout) pods[tag] = await addPod(fx, `lb${tag}`, s, 7414);
  await waitBound(Object.values(pods).map((p) => p.port.id));
  const labels: Record<string, Record<string, string>> = { cl: {}, w1: { app: "web", self: "yes" }, w2: { app: "web" }, w3: { app: "web" }, bx: {}, by: { app: "web" } };
  for (const [tag, s] of layout) {
    refs[tag] = { orgId: s.orgId, projectId: s.projectId, name: tag, ip: pods[tag]!.port.ipAddress };
    await serve(pods[tag]!.ns, tag, PORT);
    await registerPod(s.orgId === A.orgId ? userA : userB, node, NODE, refs[tag]!, labels[tag]!, tag !== "w3");
  }
  svcs.web = await createService(userA, "web", { app: "web" });
  svcs.self = await createService(userA, "self", { self: "yes" });
  svcs.idle = await createService(userA, "idle", { app: "nothing-matches" });
  svcs.webB = await createService(userB, "web", { app: "web" }); // the same name in another tenant
});

after(async () => {
  await stopServers();
  await stopPeers();
  await lb?.stop({ remove: true }).catch(() => undefined);
  for (const p of Object.values(pods)) await delPod(fx, p).catch(() => undefined);
  await deleteAllNetns();
  for (const p of Object.values(pods)) await sh("ip", "link", "del", p.host).catch(() => undefined);
  for (const c of [userA, userB, node]) c?.close();
  await cp?.stop();
  if (!closed) await fx?.close();
  rmSync(dir, { recursive: true, force: true });
});

const backends = (...tags: string[]): string => tags.map((t) => `${refs[t]!.ip}:${PORT}`).sort().join(",");
const lbA = (name: string, proto: "tcp" | "udp"): string => lb!.lbName({ ...A, namespace: "default", name }, proto);
const lbB = (name: string, proto: "tcp" | "udp"): string => lb!.lbName({ ...B, namespace: "default", name }, proto);

/** This node's ovn-controller has processed every northbound change made so far (the datapath has them). */
const hvSynced = (): Promise<string> => nbctl("--wait=hv", "sync");

/** Waits until the LB row holds exactly these VIPs, and the chassis has its flows. */
async function vipsAre(name: string, want: Record<string, string>): Promise<string> {
  const uuid = await waitFor(`${name} vips ${JSON.stringify(want)}`, async () => {
    const rows = await lbRows(name);
    return rows.length === 1 && JSON.stringify(rows[0]!.vips) === JSON.stringify(want) ? rows[0]!.uuid : undefined;
  });
  await hvSynced();
  return uuid;
}

describe("OVN load balancers for Services (novanet ovs mode)", () => {
  test("NB: one LB per Service and protocol, VIPs to the ready endpoints, on the tenant's switches only", async () => {
    await vipsAre(lbA("web", "tcp"), { [`${ip(svcs.web!)}:80`]: backends("w1", "w2") });
    await vipsAre(lbA("web", "udp"), { [`${ip(svcs.web!)}:53`]: backends("w1", "w2") });
    await vipsAre(lbA("idle", "tcp"), { [`${ip(svcs.idle!)}:80`]: "" });
    await vipsAre(lbB("web", "tcp"), { [`${ip(svcs.webB!)}:80`]: backends("by") });
    const [tcp] = await lbRows(lbA("web", "tcp"));
    assert.equal(tcp!.protocol, "tcp");
    assert.equal(tcp!.options.reject, "true", "no ready endpoint: rejected, not black-holed");
    const ofA = ["web", "self", "idle"].flatMap((n) => [lbA(n, "tcp"), lbA(n, "udp")]).sort();
    const ofB = [lbB("web", "tcp"), lbB("web", "udp")].sort();
    await waitFor("every LB on its tenant's switches", async () =>
      JSON.stringify([await switchLbs(sw(A1.id)), await switchLbs(sw(A2.id)), await switchLbs(sw(B1.id))]) === JSON.stringify([ofA, ofA, ofB]));
    // The service range's reject ACL (after the LB stage), one row on every subnet switch.
    const acls = await owned("ACL", prefix, "_uuid");
    assert.equal(acls.length, 1);
    assert.equal((await nbctl("get", "ACL", acls[0]!, "match")).trim(), '"ip4.dst == 10.96.0.0/16"');
    for (const s of [A1, A2, B1]) assert.match(await nbctl("get", "Logical_Switch", sw(s.id), "acls"), new RegExp(acls[0]!));
  });

  test("a pod reaches a cluster IP over TCP and UDP; both ready backends answer, a not-ready one never", async () => {
    const [t, u] = [await probe(pods.cl!.ns, "tcp", ip(svcs.web!), 80, 24), await probe(pods.cl!.ns, "udp", ip(svcs.web!), 53, 24)];
    assert.deepEqual([Object.keys(t.answers).sort(), t.errors], [["w1", "w2"], {}], `TCP: ${JSON.stringify(t)}`);
    assert.deepEqual([Object.keys(u.answers).sort(), u.errors], [["w1", "w2"], {}], `UDP: ${JSON.stringify(u)}`);
    assert.deepEqual(await seenFrom(pods.cl!.ns, "tcp", ip(svcs.web!), 80, 4), { [refs.cl!.ip]: 4 }, "the backends see the client's own address (no SNAT)");
  });

  test("an endpoint serves once its pod is Ready and stops when it is not", async () => {
    await setReady(node, refs.w3!, true);
    await vipsAre(lbA("web", "tcp"), { [`${ip(svcs.web!)}:80`]: backends("w1", "w2", "w3") });
    const t = await probe(pods.cl!.ns, "tcp", ip(svcs.web!), 80, 30);
    assert.deepEqual(Object.keys(t.answers).sort(), ["w1", "w2", "w3"], JSON.stringify(t));
    await setReady(node, refs.w3!, false);
    await vipsAre(lbA("web", "tcp"), { [`${ip(svcs.web!)}:80`]: backends("w1", "w2") });
    const again = await probe(pods.cl!.ns, "tcp", ip(svcs.web!), 80, 24);
    assert.deepEqual([Object.keys(again.answers).sort(), again.errors], [["w1", "w2"], {}], JSON.stringify(again));
  });

  test("a Service without ready endpoints refuses at once (TCP reset, ICMP port unreachable)", async () => {
    assert.deepEqual(await probe(pods.cl!.ns, "tcp", ip(svcs.idle!), 80, 3), { answers: {}, errors: { ECONNREFUSED: 3 } });
    assert.deepEqual(await probe(pods.cl!.ns, "udp", ip(svcs.idle!), 53, 3), { answers: {}, errors: { ECONNREFUSED: 3 } });
  });

  test("hairpin: a pod reaches itself through its own Service", async () => {
    await vipsAre(lbA("self", "tcp"), { [`${ip(svcs.self!)}:80`]: backends("w1") });
    assert.deepEqual(await probe(pods.w1!.ns, "tcp", ip(svcs.self!), 80, 5), { answers: { w1: 5 }, errors: {} });
    assert.deepEqual(await probe(pods.w1!.ns, "udp", ip(svcs.self!), 53, 5), { answers: { w1: 5 }, errors: {} });
    // OVN SNATs hairpinned traffic to the VIP (no options:hairpin_snat_ip), so the reply goes back through the LB.
    assert.deepEqual(await seenFrom(pods.w1!.ns, "tcp", ip(svcs.self!), 80, 2), { [ip(svcs.self!)]: 2 }, "seen from the cluster IP");
  });

  test("another tenant's pod has no such VIP: refused, while its own tenant's Service answers", async () => {
    assert.deepEqual(await probe(pods.bx!.ns, "tcp", ip(svcs.webB!), 80, 3), { answers: { by: 3 }, errors: {} }, "B's own Service");
    assert.deepEqual(await probe(pods.bx!.ns, "tcp", ip(svcs.web!), 80, 3), { answers: {}, errors: { ECONNREFUSED: 3 } }, "A's VIP from B");
    assert.deepEqual(await probe(pods.bx!.ns, "udp", ip(svcs.web!), 53, 3), { answers: {}, errors: { ECONNREFUSED: 3 } }, "A's VIP from B, UDP");
    assert.deepEqual(await probe(pods.cl!.ns, "tcp", ip(svcs.webB!), 80, 3), { answers: {}, errors: { ECONNREFUSED: 3 } }, "B's VIP from A");
  });

  test("deleting the Service removes its VIP (refused) and its rows", async () => {
    await deleteService(userA, "web");
    await waitFor("web's LBs gone", async () => (await lbRows(lbA("web", "tcp"))).length + (await lbRows(lbA("web", "udp"))).length === 0);
    await hvSynced();
    assert.ok(!(await switchLbs(sw(A1.id))).some((n) => n.includes("/web/")), "off the switch");
    assert.deepEqual(await probe(pods.cl!.ns, "tcp", ip(svcs.web!), 80, 3), { answers: {}, errors: { ECONNREFUSED: 3 } });
    assert.deepEqual(await probe(pods.cl!.ns, "tcp", ip(svcs.webB!), 80, 1), { answers: {}, errors: { ECONNREFUSED: 1 } }, "B's untouched, still not A's");
    assert.equal((await lbRows(lbB("web", "tcp"))).length, 1, "tenant B's Service of the same name stays");
  });

  test("level-triggered: a row removed by hand comes back; stopping with remove leaves nothing", async () => {
    const [before] = await lbRows(lbA("self", "tcp"));
    await nbctl("lb-del", before!.uuid);
    const again = await waitFor("a new row", async () => (await vipsAre(lbA("self", "tcp"), { [`${ip(svcs.self!)}:80`]: backends("w1") })) !== before!.uuid);
    assert.ok(again);
    assert.deepEqual(await switchLbs(sw(A1.id)), ["idle", "self"].flatMap((n) => [lbA(n, "tcp"), lbA(n, "udp")]).sort(), "attached again");
    assert.deepEqual(await probe(pods.w1!.ns, "tcp", ip(svcs.self!), 80, 2), { answers: { w1: 2 }, errors: {} });
    await lb!.stop({ remove: true });
    lb = undefined;
    assert.deepEqual([...await owned("Load_Balancer", prefix), ...await owned("ACL", prefix, "_uuid")], []);
    await stopServers();
    for (const [tag, p] of Object.entries(pods)) {
      await delPod(fx, p);
      delete pods[tag];
      assert.ok(!(await ovsPorts()).includes(p.host), `${p.host} gone from br-int`);
      assert.ok(!existsSync(`/var/run/netns/${p.ns}`), `${p.ns} gone`);
    }
    await fx.close();
    closed = true;
    assert.deepEqual([...await owned("Logical_Switch", prefix), ...await owned("Logical_Router", prefix)], [], "no switch or router left");
  });
});
