// The node-authorizer rule of the control-plane stand-in for env and envFrom:
// a node reads the config maps and secrets its own pods name there (any
// container, init containers too), in the pod's tenant and namespace, and
// nothing else.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateConfigMapRequest, CreatePodRequest, CreateSecretRequest, GetConfigMapRequest, GetSecretRequest, Pod } from "@plasmacloud/proto/k8shost";
import { errorCode } from "@plasmacloud/common/errors";
import { ControlPlane } from "../../../agent/src/controlplane/client";
import { referencedByNodePod } from "../../src/controlplane/authz";
import { TokenStore } from "../../src/iam/tokens";
import { startControlPlaneStandIn } from "../../src/controlplane/server";

const envPod = Pod.fromPartial({
  metadata: { name: "web", namespace: "ns", orgId: "o1", projectId: "p1" },
  spec: {
    nodeName: "n1",
    initContainers: [{ name: "init", image: "i", envFrom: [{ secretRef: { name: "init-secret" } }] }],
    containers: [
      {
        name: "c",
        image: "i",
        env: [
          { name: "A", valueFrom: { configMapKeyRef: { name: "key-cm", key: "k" } } },
          { name: "B", valueFrom: { secretKeyRef: { name: "key-secret", key: "k" } } },
        ],
        envFrom: [{ configMapRef: { name: "from-cm" }, prefix: "P_" }],
      },
    ],
  },
});

test("referencedByNodePod: env and envFrom names count, per kind, for the pod's node, tenant and namespace only", () => {
  const ref = (kind: "secret" | "configMap", name: string, over: { node?: string; org?: string; ns?: string } = {}): boolean =>
    referencedByNodePod([envPod], over.node ?? "n1", over.org ?? "o1", "p1", over.ns ?? "ns", kind, name);
  assert.ok(ref("configMap", "key-cm"));
  assert.ok(ref("configMap", "from-cm"));
  assert.ok(ref("secret", "key-secret"));
  assert.ok(ref("secret", "init-secret"), "init containers' envFrom counts");
  assert.ok(!ref("secret", "key-cm"), "a config map reference grants no secret of that name");
  assert.ok(!ref("configMap", "key-secret"), "a secret reference grants no config map of that name");
  assert.ok(!ref("configMap", "other"));
  assert.ok(!ref("configMap", "key-cm", { node: "n2" }), "another node");
  assert.ok(!ref("configMap", "key-cm", { org: "o2" }), "another tenant");
  assert.ok(!ref("configMap", "key-cm", { ns: "default" }), "another namespace");
});

test("over the API: a node gets what its pods' env names, NotFound for anything else or any other tenant", async () => {
  const tokens = new TokenStore()
    .add("alice", { name: "user:alice", kind: "user", orgId: "o1", projectId: "p1" })
    .add("bob", { name: "user:bob", kind: "user", orgId: "o2", projectId: "p2" })
    .add("node1", { name: "system:node:n1", kind: "node", orgId: "", projectId: "", nodeName: "n1" });
  const cp = await startControlPlaneStandIn({ tokens });
  const dir = mkdtempSync(join(tmpdir(), "authz-"));
  const client = (tok: string): ControlPlane => {
    writeFileSync(join(dir, tok), tok);
    return new ControlPlane(cp.address, join(dir, tok), "", 5000);
  };
  const [alice, bob, node] = [client("alice"), client("bob"), client("node1")];
  const code = (p: Promise<unknown>): Promise<string> => p.then(() => "ok", (e: unknown) => errorCode(e));
  try {
    for (const u of [alice, bob]) {
      for (const name of ["key-cm", "from-cm", "unused-cm"]) {
        await u.call("CreateConfigMap", u.configMaps.createConfigMap.bind(u.configMaps), CreateConfigMapRequest.fromPartial({ configMap: { metadata: { name, namespace: "ns" }, data: { k: "v" } } }));
      }
      for (const name of ["key-secret", "init-secret", "unused-secret"]) {
        await u.call("CreateSecret", u.secrets.createSecret.bind(u.secrets), CreateSecretRequest.fromPartial({ secret: { metadata: { name, namespace: "ns" }, data: { k: Buffer.from("v") } } }));
      }
    }
    const p = structuredClone(envPod);
    p.metadata = { ...p.metadata!, orgId: "", projectId: "" };
    await alice.call("CreatePod", alice.pods.createPod.bind(alice.pods), CreatePodRequest.fromPartial({ pod: p }));
    const cm = (name: string, orgId = "o1", projectId = "p1") =>
      code(node.call("GetConfigMap", node.configMaps.getConfigMap.bind(node.configMaps), GetConfigMapRequest.fromPartial({ ref: { orgId, projectId, namespace: "ns", name } })));
    const secret = (name: string, orgId = "o1", projectId = "p1") =>
      code(node.call("GetSecret", node.secrets.getSecret.bind(node.secrets), GetSecretRequest.fromPartial({ ref: { orgId, projectId, namespace: "ns", name } })));
    assert.equal(await cm("key-cm"), "ok");
    assert.equal(await cm("from-cm"), "ok");
    assert.equal(await secret("key-secret"), "ok");
    assert.equal(await secret("init-secret"), "ok");
    assert.equal(await cm("unused-cm"), "NotFound");
    assert.equal(await secret("unused-secret"), "NotFound");
    // The same names exist in o2/p2, where no pod of n1 names them.
    assert.equal(await cm("key-cm", "o2", "p2"), "NotFound");
    assert.equal(await secret("key-secret", "o2", "p2"), "NotFound");
  } finally {
    for (const c of [alice, bob, node]) c.close();
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
