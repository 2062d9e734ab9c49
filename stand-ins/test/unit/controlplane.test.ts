// The control-plane stand-in behaves like a real API server where the agent
// relies on it: auth, tenant scoping, resource versions, watch resume and
// "too old", conflicts, graceful deletion, the node-authorizer rule.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { CreatePodRequest, CreateSecretRequest, DeletePodRequest, GetPodRequest, GetSecretRequest, ListPodsRequest, UpdatePodRequest, UpdatePodStatusRequest, WatchEvent_Type, WatchPodsRequest, type WatchEvent } from "@plasmacloud/proto/k8shost";
import { ControlPlane } from "../../../agent/src/controlplane/client";
import { errorCode } from "@plasmacloud/common/errors";
import { TokenStore } from "../../src/iam/tokens";
import { startControlPlaneStandIn } from "../../src/controlplane/server";

async function setup(historyLimit?: number) {
  const tokens = new TokenStore()
    .add("alice", { name: "user:alice", kind: "user", orgId: "o1", projectId: "p1" })
    .add("bob", { name: "user:bob", kind: "user", orgId: "o2", projectId: "p2" })
    .add("node1", { name: "system:node:n1", kind: "node", orgId: "", projectId: "", nodeName: "n1" });
  const cp = await startControlPlaneStandIn({ tokens, historyLimit });
  const dir = mkdtempSync(join(tmpdir(), "cp-"));
  const client = (tok: string): ControlPlane => {
    writeFileSync(join(dir, tok), tok);
    return new ControlPlane(cp.address, join(dir, tok), "", 5000);
  };
  const clients = { alice: client("alice"), bob: client("bob"), node: client("node1"), bad: client("nobody") };
  const stop = async (): Promise<void> => {
    for (const c of Object.values(clients)) c.close();
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return { stop, ...clients };
}

const pod = (name: string, nodeName = "n1") => CreatePodRequest.fromPartial({ pod: { metadata: { name }, spec: { nodeName, containers: [{ name: "c", image: "i" }] } } });
const code = async (p: Promise<unknown>): Promise<string> => p.then(() => "ok", (e: unknown) => errorCode(e));

test("auth and tenancy: no token -> Unauthenticated; another tenant's pod is NotFound; a node may not create pods", async () => {
  const { stop, alice, bob, node, bad } = await setup();
  try {
    assert.equal(await code(bad.call("ListPods", bad.pods.listPods.bind(bad.pods), ListPodsRequest.fromPartial({}))), "Unauthenticated");
    const p = await alice.call("CreatePod", alice.pods.createPod.bind(alice.pods), pod("web"));
    assert.equal(p.metadata!.orgId, "o1");
    assert.ok(p.metadata!.uid && p.metadata!.resourceVersion);
    assert.equal(await code(bob.call("GetPod", bob.pods.getPod.bind(bob.pods), GetPodRequest.fromPartial({ ref: { name: "web", orgId: "o1", projectId: "p1" } }))), "NotFound");
    assert.equal((await bob.call("ListPods", bob.pods.listPods.bind(bob.pods), ListPodsRequest.fromPartial({}))).items.length, 0);
    assert.equal(await code(node.call("CreatePod", node.pods.createPod.bind(node.pods), pod("x"))), "PermissionDenied");
    assert.equal(await code(node.call("ListPods", node.pods.listPods.bind(node.pods), ListPodsRequest.fromPartial({ nodeName: "n2" }))), "PermissionDenied");
    assert.equal((await node.call("ListPods", node.pods.listPods.bind(node.pods), ListPodsRequest.fromPartial({ nodeName: "n1" }))).items.length, 1);
    assert.equal(await code(alice.call("CreatePod", alice.pods.createPod.bind(alice.pods), pod("web"))), "Conflict", "AlreadyExists");
    const bad1 = CreatePodRequest.fromPartial({ pod: { metadata: { name: "x" }, spec: { containers: [{ name: "c", image: "" }] } } });
    await assert.rejects(alice.call("CreatePod", alice.pods.createPod.bind(alice.pods), bad1), /spec\.containers\[0\]\.image/);
  } finally {
    await stop();
  }
});

test("updates conflict on a stale resource_version; status updates check the uid", async () => {
  const { stop, alice, node } = await setup();
  try {
    const p = await alice.call("CreatePod", alice.pods.createPod.bind(alice.pods), pod("web"));
    const upd = await alice.call("UpdatePod", alice.pods.updatePod.bind(alice.pods), UpdatePodRequest.fromPartial({ pod: { ...p, metadata: { ...p.metadata!, labels: { a: "1" } } } }));
    assert.notEqual(upd.metadata!.resourceVersion, p.metadata!.resourceVersion);
    assert.equal(await code(alice.call("UpdatePod", alice.pods.updatePod.bind(alice.pods), UpdatePodRequest.fromPartial({ pod: p }))), "Conflict");
    const ref = { orgId: "o1", projectId: "p1", namespace: "default", name: "web" };
    assert.equal(await code(node.call("UpdatePodStatus", node.pods.updatePodStatus.bind(node.pods), UpdatePodStatusRequest.fromPartial({ ref, uid: "other", status: { phase: "Running" } }))), "Conflict");
    const st = await node.call("UpdatePodStatus", node.pods.updatePodStatus.bind(node.pods), UpdatePodStatusRequest.fromPartial({ ref, uid: p.metadata!.uid, status: { phase: "Running" } }));
    assert.equal(st.status!.phase, "Running");
  } finally {
    await stop();
  }
});

test("watch resumes from a resource_version, and a compacted one is OUT_OF_RANGE", async () => {
  const { stop, alice, node } = await setup(3);
  try {
    const first = await alice.call("CreatePod", alice.pods.createPod.bind(alice.pods), pod("a"));
    await alice.call("CreatePod", alice.pods.createPod.bind(alice.pods), pod("b"));
    // From the first pod's version: only b is replayed, then live events follow.
    const seen: string[] = [];
    const stream = node.pods.watchPods(WatchPodsRequest.fromPartial({ nodeName: "n1", resourceVersion: first.metadata!.resourceVersion }), node.metadata());
    let deleted: WatchEvent | undefined;
    stream.on("data", (ev: WatchEvent) => {
      seen.push(`${WatchEvent_Type[ev.type]}:${ev.pod!.metadata!.name}`);
      if (ev.type === WatchEvent_Type.DELETED) deleted = ev;
    });
    stream.on("error", () => {});
    await alice.call("DeletePod", alice.pods.deletePod.bind(alice.pods), DeletePodRequest.fromPartial({ ref: { name: "a" }, gracePeriodSeconds: 0n }));
    await new Promise((r) => setTimeout(r, 300));
    stream.cancel();
    assert.deepEqual(seen, ["ADDED:b", "DELETED:a"]);
    assert.equal(deleted?.pod?.metadata?.deletionGracePeriodSeconds, 0n, "a force delete's final object says grace 0");
    // Push the first version out of history (limit 3).
    for (const n of ["c", "d", "e"]) await alice.call("CreatePod", alice.pods.createPod.bind(alice.pods), pod(n));
    const err = await new Promise<{ code?: number; details?: string }>((resolve) => {
      const s = node.pods.watchPods(WatchPodsRequest.fromPartial({ nodeName: "n1", resourceVersion: first.metadata!.resourceVersion }), node.metadata());
      s.on("data", () => {});
      s.on("error", (e: { code?: number; details?: string }) => resolve(e));
    });
    assert.equal(err.code, status.OUT_OF_RANGE);
    assert.match(err.details ?? "", /too old/);
  } finally {
    await stop();
  }
});

test("deletion: a bound pod is marked with its grace period and removed when the node finalizes", async () => {
  const { stop, alice, node } = await setup();
  try {
    const p = await alice.call("CreatePod", alice.pods.createPod.bind(alice.pods), pod("web"));
    const marked = await alice.call("DeletePod", alice.pods.deletePod.bind(alice.pods), DeletePodRequest.fromPartial({ ref: { name: "web" }, gracePeriodSeconds: 20n }));
    assert.ok(marked.metadata!.deletionTimestamp);
    assert.equal(marked.metadata!.deletionGracePeriodSeconds, 20n);
    const ref = { orgId: "o1", projectId: "p1", namespace: "default", name: "web" };
    assert.equal(await code(node.call("DeletePod", node.pods.deletePod.bind(node.pods), DeletePodRequest.fromPartial({ ref, gracePeriodSeconds: 5n }))), "PermissionDenied");
    assert.equal(await code(node.call("DeletePod", node.pods.deletePod.bind(node.pods), DeletePodRequest.fromPartial({ ref, gracePeriodSeconds: 0n, uid: "stale" }))), "Conflict");
    await node.call("DeletePod", node.pods.deletePod.bind(node.pods), DeletePodRequest.fromPartial({ ref, gracePeriodSeconds: 0n, uid: p.metadata!.uid }));
    assert.equal(await code(alice.call("GetPod", alice.pods.getPod.bind(alice.pods), GetPodRequest.fromPartial({ ref: { name: "web" } }))), "NotFound");
    // An unbound pod has nothing to stop: it goes at once.
    await alice.call("CreatePod", alice.pods.createPod.bind(alice.pods), pod("loose", ""));
    await alice.call("DeletePod", alice.pods.deletePod.bind(alice.pods), DeletePodRequest.fromPartial({ ref: { name: "loose" } }));
    assert.equal(await code(alice.call("GetPod", alice.pods.getPod.bind(alice.pods), GetPodRequest.fromPartial({ ref: { name: "loose" } }))), "NotFound");
  } finally {
    await stop();
  }
});

test("a node reads only the secrets its own pods reference, in their tenant", async () => {
  const { stop, alice, node } = await setup();
  try {
    for (const name of ["used", "unused"]) {
      await alice.call("CreateSecret", alice.secrets.createSecret.bind(alice.secrets), CreateSecretRequest.fromPartial({ secret: { metadata: { name }, data: { k: Buffer.from("v") } } }));
    }
    await alice.call("CreatePod", alice.pods.createPod.bind(alice.pods), CreatePodRequest.fromPartial({ pod: { metadata: { name: "web" }, spec: { nodeName: "n1", imagePullSecrets: [{ name: "used" }], containers: [{ name: "c", image: "i" }] } } }));
    const get = (name: string, orgId = "o1") => node.call("GetSecret", node.secrets.getSecret.bind(node.secrets), GetSecretRequest.fromPartial({ ref: { orgId, projectId: "p1", namespace: "default", name } }));
    assert.equal(Buffer.from((await get("used")).data.k!).toString(), "v");
    assert.equal(await code(get("unused")), "NotFound");
    assert.equal(await code(get("used", "o2")), "NotFound");
  } finally {
    await stop();
  }
});
