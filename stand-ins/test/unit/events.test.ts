// The stand-in's EventService behaves as the API server does where the agent and
// `pods describe` rely on it: resource versions and conflicts, NotFound, list
// filters, the node-authorizer rule for writers, tenant scoping for readers,
// the TTL after the last write and the per-tenant bound.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateEventRequest, CreatePodRequest, Event, ListEventsRequest, NodeCondition, RegisterNodeRequest, UpdateEventRequest } from "@plasmacloud/proto/k8shost";
import { errorCode } from "@plasmacloud/common/errors";
import { ControlPlane } from "../../../agent/src/controlplane/client";
import { TokenStore } from "../../src/iam/tokens";
import { startControlPlaneStandIn } from "../../src/controlplane/server";
import type { EventStoreOptions } from "../../src/controlplane/events-store";

async function setup(events?: EventStoreOptions) {
  const tokens = new TokenStore()
    .add("alice", { name: "user:alice", kind: "user", orgId: "o1", projectId: "p1" })
    .add("bob", { name: "user:bob", kind: "user", orgId: "o2", projectId: "p2" })
    .add("node1", { name: "system:node:n1", kind: "node", orgId: "", projectId: "", nodeName: "n1" })
    .add("node2", { name: "system:node:n2", kind: "node", orgId: "", projectId: "", nodeName: "n2" });
  const cp = await startControlPlaneStandIn({ tokens, events });
  const dir = mkdtempSync(join(tmpdir(), "cp-events-"));
  const client = (tok: string): ControlPlane => {
    writeFileSync(join(dir, tok), tok);
    return new ControlPlane(cp.address, join(dir, tok), "", 5000);
  };
  const clients = { alice: client("alice"), bob: client("bob"), n1: client("node1"), n2: client("node2") };
  const stop = async (): Promise<void> => {
    for (const c of Object.values(clients)) c.close();
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return { stop, cp, ...clients };
}

/** `e`: a partial event, filled in as fromPartial does. */
const create = (c: ControlPlane, e: object) =>
  c.call("CreateEvent", c.events.createEvent.bind(c.events), CreateEventRequest.fromPartial({ event: e as never }));
const update = (c: ControlPlane, e: Event) => c.call("UpdateEvent", c.events.updateEvent.bind(c.events), UpdateEventRequest.fromPartial({ event: e }));
const list = (c: ControlPlane, q: Partial<ListEventsRequest> = {}) => c.call("ListEvents", c.events.listEvents.bind(c.events), ListEventsRequest.fromPartial(q)).then((r) => r.items);
const code = async (p: Promise<unknown>): Promise<string> => p.then(() => "ok", (e: unknown) => errorCode(e));

async function podOn(alice: ControlPlane, name: string, nodeName: string) {
  const req = CreatePodRequest.fromPartial({ pod: { metadata: { name }, spec: { nodeName, containers: [{ name: "c", image: "i" }] } } });
  return alice.call("CreatePod", alice.pods.createPod.bind(alice.pods), req);
}

const podEvent = (name: string, pod: string, uid: string, extra: Record<string, unknown> = {}) => ({
  metadata: { name, namespace: "default", orgId: "o1", projectId: "p1" },
  involvedObject: { kind: "Pod", namespace: "default", name: pod, uid, fieldPath: "spec.containers{c}" },
  reason: "Pulled",
  message: "Successfully pulled image",
  source: { component: "kubelet", host: "n1" },
  type: "Normal",
  count: 1,
  ...extra,
});

test("a node reports events about its pods; updates carry resource versions; a user lists them with filters", async () => {
  const { stop, alice, n1 } = await setup();
  try {
    const web = await podOn(alice, "web", "n1");
    const db = await podOn(alice, "db", "n1");
    const e = await create(n1, podEvent("web.1", "web", web.metadata!.uid));
    assert.ok(e.metadata!.resourceVersion && e.metadata!.uid && e.firstTimestamp && e.lastTimestamp);
    assert.equal(e.count, 1);
    assert.equal(await code(create(n1, podEvent("web.1", "web", web.metadata!.uid))), "Conflict", "AlreadyExists for a taken name");
    await create(n1, podEvent("db.1", "db", db.metadata!.uid, { reason: "Started" }));

    const later = new Date(e.firstTimestamp!.getTime() + 5000);
    const up = await update(n1, { ...e, count: 2, lastTimestamp: later, message: "again" });
    assert.equal(up.count, 2);
    assert.equal(up.message, "again");
    assert.deepEqual(up.firstTimestamp, e.firstTimestamp, "first_timestamp is kept");
    assert.notEqual(up.metadata!.resourceVersion, e.metadata!.resourceVersion);
    assert.equal(await code(update(n1, { ...e, count: 3 })), "Conflict", "a stale resource_version is ABORTED");
    assert.equal(await code(update(n1, { ...e, metadata: { ...e.metadata!, name: "web.none", resourceVersion: "" } })), "NotFound");
    assert.equal(await code(update(n1, { ...up, involvedObject: { ...up.involvedObject!, fieldPath: "spec.containers{other}" } })), "InvalidArgument", "the involved object is immutable");

    assert.deepEqual((await list(alice)).map((x) => x.metadata!.name), ["db.1", "web.1"], "sorted by last timestamp");
    assert.deepEqual((await list(alice, { involvedObjectUid: web.metadata!.uid })).map((x) => x.count), [2]);
    assert.deepEqual((await list(alice, { involvedObjectName: "db", involvedObjectKind: "Pod" })).map((x) => x.reason), ["Started"]);
    assert.equal((await list(alice, { involvedObjectName: "db", involvedObjectKind: "Node" })).length, 0);
    assert.equal((await list(alice, { namespace: "other" })).length, 0);
    await assert.rejects(create(n1, { ...podEvent("bad", "web", web.metadata!.uid), type: "Info" }), /event\.type/);
    await assert.rejects(create(n1, { ...podEvent("x", "web", web.metadata!.uid), metadata: { name: "x", namespace: "other", orgId: "o1", projectId: "p1" } }), /involved_object\.namespace/);
  } finally {
    await stop();
  }
});

test("node authorizer: only pods bound to the node, in their tenant, and the node itself; users see only their tenant", async () => {
  const { stop, alice, bob, n1, n2 } = await setup();
  try {
    const web = await podOn(alice, "web", "n1");
    const uid = web.metadata!.uid;
    assert.equal(await code(create(n2, podEvent("web.2", "web", uid))), "NotFound", "a pod bound to another node");
    assert.equal(await code(create(n1, { ...podEvent("web.3", "web", uid), metadata: { name: "web.3", namespace: "default", orgId: "o2", projectId: "p2" } })), "NotFound", "another tenant");
    assert.equal(await code(create(n1, podEvent("web.4", "web", "another-uid"))), "NotFound", "a re-created pod of the same name");
    assert.equal(await code(create(n1, { ...podEvent("cm.1", "cm", ""), involvedObject: { kind: "ConfigMap", namespace: "default", name: "cm", uid: "", fieldPath: "" } })), "PermissionDenied");
    const nodeEvent = (node: string) => ({ metadata: { name: `${node}.1` }, involvedObject: { kind: "Node", name: node, uid: node, namespace: "", fieldPath: "" }, reason: "NodeReady", message: `Node ${node} status is now: NodeReady`, type: "Normal" });
    assert.equal(await code(create(n1, nodeEvent("n2"))), "PermissionDenied", "another node");
    assert.equal(await code(create(alice, nodeEvent("n1"))), "PermissionDenied", "a user does not speak for nodes");
    const ne = await create(n1, nodeEvent("n1"));
    assert.equal(ne.metadata!.namespace, "default");
    assert.equal(ne.metadata!.orgId, "", "node events belong to no tenant");

    await create(n1, podEvent("web.1", "web", uid));
    assert.equal((await list(alice)).filter((e) => e.involvedObject!.kind === "Pod").length, 1);
    assert.equal((await list(bob)).length, 0, "another tenant sees none");
    assert.equal(await code(list(bob, { orgId: "o1", projectId: "p1" })), "NotFound");
    assert.deepEqual((await list(bob, { involvedObjectKind: "Node", involvedObjectName: "n1" })).map((e) => e.reason), ["NodeReady"], "node events, like nodes, are public");
    assert.deepEqual((await list(n2, { orgId: "o1", projectId: "p1" })).length, 0, "a node lists only what it may write");
    assert.equal((await list(n1, { orgId: "o1", projectId: "p1", involvedObjectKind: "Pod" })).length, 1);
  } finally {
    await stop();
  }
});

test("the scheduler records Scheduled and the node controller RegisteredNode", async () => {
  const { stop, alice, n1 } = await setup();
  try {
    const ready = NodeCondition.fromPartial({ type: "Ready", status: "True" });
    await n1.call("RegisterNode", n1.nodes.registerNode.bind(n1.nodes), RegisterNodeRequest.fromPartial({ node: { metadata: { name: "n1" }, status: { conditions: [ready] } } }));
    const pod = await podOn(alice, "web", "");
    const evs = await list(alice, { involvedObjectUid: pod.metadata!.uid });
    assert.deepEqual(evs.map((e) => [e.reason, e.message, e.source?.component]), [["Scheduled", "Successfully assigned default/web to n1", "default-scheduler"]]);
    assert.match(evs[0]!.metadata!.name, /^web\.[0-9a-f]+$/);
    const reg = await list(alice, { involvedObjectKind: "Node", involvedObjectName: "n1" });
    assert.deepEqual(reg.map((e) => e.reason), ["RegisteredNode"]);
  } finally {
    await stop();
  }
});

test("events live one TTL after their last write, and each tenant keeps at most its bound", async () => {
  let now = Date.parse("2030-01-01T00:00:00Z");
  const { stop, cp, alice, n1 } = await setup({ ttlMs: 60_000, maxPerTenant: 3, now: () => now });
  try {
    const web = await podOn(alice, "web", "n1");
    const uid = web.metadata!.uid;
    const a = await create(n1, podEvent("web.a", "web", uid));
    await create(n1, podEvent("web.b", "web", uid));
    now += 40_000;
    await update(n1, { ...a, count: 2 }); // renews a's TTL
    now += 30_000;
    assert.deepEqual((await list(alice)).map((e) => e.metadata!.name), ["web.a"], "b expired 70 s after its last write; a was written 30 s ago");
    for (const n of ["c", "d", "e"]) await create(n1, podEvent(`web.${n}`, "web", uid));
    assert.deepEqual((await list(alice)).map((e) => e.metadata!.name).sort(), ["web.c", "web.d", "web.e"], "the oldest write goes first when over the bound");
    assert.equal(cp.events.size, 3);
    // A deleted pod's events go with the TTL: nothing writes them any more.
    await alice.call("DeletePod", alice.pods.deletePod.bind(alice.pods), { ref: { name: "web", namespace: "default", orgId: "", projectId: "" }, gracePeriodSeconds: 0n, uid: "" });
    now += 61_000;
    assert.equal((await list(alice)).length, 0);
    assert.equal(cp.events.size, 0);
  } finally {
    await stop();
  }
});
