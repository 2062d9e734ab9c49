// NodeService of the control-plane stand-in: a node registers its taints,
// GetNode and ListNodes return them, heartbeats leave them alone, and taints
// the API server would refuse are refused with the field named.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetNodeRequest, HeartbeatRequest, ListNodesRequest, RegisterNodeRequest, type Taint } from "@plasmacloud/proto/k8shost";
import { errorCode } from "@plasmacloud/common/errors";
import { ControlPlane } from "../../../agent/src/controlplane/client";
import { TokenStore } from "../../src/iam/tokens";
import { startControlPlaneStandIn } from "../../src/controlplane/server";

async function setup(t: { after(fn: () => Promise<void> | void): void }) {
  const tokens = new TokenStore()
    .add("node1", { name: "system:node:n1", kind: "node", orgId: "", projectId: "", nodeName: "n1" })
    .add("alice", { name: "user:alice", kind: "user", orgId: "o1", projectId: "p1" });
  const cp = await startControlPlaneStandIn({ tokens });
  const dir = mkdtempSync(join(tmpdir(), "cp-nodes-"));
  const client = (tok: string): ControlPlane => {
    writeFileSync(join(dir, tok), tok);
    return new ControlPlane(cp.address, join(dir, tok), "", 5000);
  };
  const node = client("node1");
  const alice = client("alice");
  t.after(async () => {
    node.close();
    alice.close();
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const register = (taints: Partial<Taint>[]) =>
    node.call("RegisterNode", node.nodes.registerNode.bind(node.nodes), RegisterNodeRequest.fromPartial({ node: { metadata: { name: "n1" }, spec: { taints }, status: { addresses: [{ type: "InternalIP", address: "10.0.0.5" }] } } }));
  const get = () => alice.call("GetNode", alice.nodes.getNode.bind(alice.nodes), GetNodeRequest.fromPartial({ name: "n1" }));
  const list = () => alice.call("ListNodes", alice.nodes.listNodes.bind(alice.nodes), ListNodesRequest.fromPartial({}));
  return { node, register, get, list };
}

const maintenance = { key: "example.com/maintenance", value: "", effect: "NoExecute", timeAdded: undefined };
const dedicated = { key: "dedicated", value: "gpu", effect: "NoSchedule", timeAdded: undefined };

test("RegisterNode stores spec.taints; GetNode and ListNodes return them; a heartbeat keeps them", async (t) => {
  const { node, register, get, list } = await setup(t);
  const made = await register([maintenance, dedicated]);
  assert.deepEqual(made.spec?.taints, [maintenance, dedicated]);
  assert.deepEqual((await get()).spec?.taints, [maintenance, dedicated]);
  assert.deepEqual((await list()).items.map((n) => n.spec?.taints), [[maintenance, dedicated]]);
  await node.call("Heartbeat", node.nodes.heartbeat.bind(node.nodes), HeartbeatRequest.fromPartial({ nodeName: "n1", conditions: [{ type: "Ready", status: "True" }] }));
  assert.deepEqual((await get()).spec?.taints, [maintenance, dedicated]);
  // Registration is the whole object: the taints are what the node sends now.
  await register([dedicated]);
  assert.deepEqual((await get()).spec?.taints, [dedicated]);
  assert.equal((await get()).status?.conditions[0]?.type, "Ready", "a re-registration keeps the heartbeat's conditions");
});

test("RegisterNode refuses taints the API server would, naming the field", async (t) => {
  const { register, get } = await setup(t);
  for (const [taints, pattern] of [
    [[{ key: "", effect: "NoSchedule" }], /node\.spec\.taints\[0\]\.key: '' is not a qualified name/],
    [[{ key: "a/b/c", effect: "NoSchedule" }], /node\.spec\.taints\[0\]\.key/],
    [[{ key: "k", value: "not valid!", effect: "NoSchedule" }], /node\.spec\.taints\[0\]\.value/],
    [[{ key: "k", effect: "" }], /node\.spec\.taints\[0\]\.effect: '' is not one of NoSchedule, PreferNoSchedule, NoExecute/],
    [[{ key: "k", value: "1", effect: "NoExecute" }, { key: "k", value: "2", effect: "NoExecute" }], /node\.spec\.taints\[1\]: taints must be unique by key and effect/],
  ] as const) {
    await assert.rejects(register(taints as unknown as Partial<Taint>[]), (err: unknown) => errorCode(err) === "InvalidArgument" && pattern.test((err as Error).message));
  }
  await assert.rejects(get(), (err: unknown) => errorCode(err) === "NotFound", "nothing was stored");
});
