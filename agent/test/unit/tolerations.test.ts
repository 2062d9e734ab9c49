// Taints and tolerations: core/v1's matching rules, the kubelet's NoExecute
// admission, the API server's validation, and manifests that carry them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Pod, type Toleration } from "@plasmacloud/proto/k8shost";
import { decodeManifests } from "../../src/manifest/decode";
import { taintRejection, taintsProblem, toleratesTaint, tolerationsProblem, untoleratedTaint, type TaintLike } from "../../src/pods/tolerations";
import { validatePod } from "../../src/pods/validate";

const tol = (t: Partial<Toleration>): Toleration => ({ key: "", operator: "", value: "", effect: "", tolerationSeconds: undefined, ...t });
const taint = (key: string, value: string, effect: string): TaintLike => ({ key, value, effect });
const pod = (tolerations: Partial<Toleration>[]): Pod => Pod.fromPartial({ metadata: { uid: "u", name: "p" }, spec: { containers: [{ name: "c", image: "i" }], tolerations } });

test("matching: Equal (or no operator) needs the same key and value; Exists any value of the key", () => {
  const t = taint("dedicated", "gpu", "NoExecute");
  assert.equal(toleratesTaint(tol({ key: "dedicated", operator: "Equal", value: "gpu", effect: "NoExecute" }), t), true);
  assert.equal(toleratesTaint(tol({ key: "dedicated", value: "gpu", effect: "NoExecute" }), t), true, "empty operator means Equal");
  assert.equal(toleratesTaint(tol({ key: "dedicated", operator: "Equal", value: "cpu", effect: "NoExecute" }), t), false);
  assert.equal(toleratesTaint(tol({ key: "dedicated", operator: "Equal", effect: "NoExecute" }), t), false, "Equal with no value matches only an empty value");
  assert.equal(toleratesTaint(tol({ key: "dedicated", operator: "Exists", effect: "NoExecute" }), t), true);
  assert.equal(toleratesTaint(tol({ key: "other", operator: "Exists", effect: "NoExecute" }), t), false);
  assert.equal(toleratesTaint(tol({ key: "dedicated", operator: "Lt", value: "5" }), taint("dedicated", "1", "NoExecute")), false, "Lt/Gt are an alpha gate upstream");
});

test("matching: an empty effect matches every effect, an empty key with Exists every taint", () => {
  assert.equal(toleratesTaint(tol({ key: "k", operator: "Exists" }), taint("k", "v", "NoSchedule")), true);
  assert.equal(toleratesTaint(tol({ key: "k", operator: "Exists" }), taint("k", "v", "NoExecute")), true);
  assert.equal(toleratesTaint(tol({ key: "k", operator: "Exists", effect: "NoSchedule" }), taint("k", "v", "NoExecute")), false);
  assert.equal(toleratesTaint(tol({ operator: "Exists" }), taint("anything", "at-all", "NoExecute")), true);
  assert.equal(toleratesTaint(tol({ operator: "Exists", effect: "NoSchedule" }), taint("anything", "", "NoExecute")), false);
});

test("untoleratedTaint: the first taint the filter picks that no toleration matches", () => {
  const taints = [taint("a", "", "NoSchedule"), taint("b", "1", "NoExecute"), taint("c", "", "NoExecute")];
  assert.deepEqual(untoleratedTaint(taints, []), taints[0]);
  assert.deepEqual(untoleratedTaint(taints, [], (t) => t.effect === "NoExecute"), taints[1]);
  assert.deepEqual(untoleratedTaint(taints, [tol({ key: "b", value: "1" })], (t) => t.effect === "NoExecute"), taints[2]);
  assert.equal(untoleratedTaint(taints, [tol({ key: "b", value: "1" }), tol({ key: "c", operator: "Exists" })], (t) => t.effect === "NoExecute"), undefined);
});

test("admission: only NoExecute taints refuse a pod (NoSchedule is the scheduler's)", () => {
  const noSchedule = [taint("dedicated", "gpu", "NoSchedule"), taint("soft", "", "PreferNoSchedule")];
  assert.equal(taintRejection(pod([]), noSchedule), undefined);
  const noExecute = [...noSchedule, taint("maintenance", "", "NoExecute")];
  assert.deepEqual(taintRejection(pod([]), noExecute), { taint: noExecute[2] });
  assert.deepEqual(taintRejection(pod([{ key: "maintenance", operator: "Equal", value: "x" }]), noExecute), { taint: noExecute[2] });
  assert.equal(taintRejection(pod([{ key: "maintenance", operator: "Exists", effect: "NoExecute", tolerationSeconds: 30n }]), noExecute), undefined);
  assert.equal(taintRejection(pod([{ operator: "Exists" }]), noExecute), undefined);
  assert.equal(taintRejection(pod([]), []), undefined);
});

test("tolerations are validated as the API server does, each problem named by its field", () => {
  assert.equal(tolerationsProblem([tol({ key: "example.com/k", operator: "Exists", effect: "NoExecute", tolerationSeconds: 5n }), tol({ operator: "Exists" }), tol({ key: "k", value: "v" })]), undefined);
  assert.match(tolerationsProblem([tol({ value: "v" })])!, /^spec\.tolerations\[0\]\.operator: .*must be Exists when key is empty/);
  assert.match(tolerationsProblem([tol({ key: "k", operator: "Exists", value: "v" })])!, /^spec\.tolerations\[0\]\.value: must be empty when operator is Exists/);
  assert.match(tolerationsProblem([tol({ key: "k", operator: "Contains" })])!, /^spec\.tolerations\[0\]\.operator: 'Contains' is not one of Equal, Exists/);
  assert.match(tolerationsProblem([tol({ key: "k", effect: "NoRun" })])!, /^spec\.tolerations\[0\]\.effect: 'NoRun' is not one of NoSchedule, PreferNoSchedule, NoExecute/);
  assert.match(tolerationsProblem([tol({ key: "k", effect: "NoSchedule", tolerationSeconds: 1n })])!, /tolerationSeconds: may only be set with effect NoExecute/);
  assert.match(tolerationsProblem([tol({}), tol({ key: "bad key!" })])!, /^spec\.tolerations\[0\]/, "the first problem");
  assert.match(tolerationsProblem([tol({ operator: "Exists" }), tol({ key: "bad key!" })])!, /^spec\.tolerations\[1\]\.key: 'bad key!' is not a qualified name/);
  // validatePod refuses such a pod (InvalidPodSpec), as the API server would have.
  assert.match(validatePod(pod([{ key: "k", operator: "Exists", value: "v" }]), () => undefined)!, /^spec\.tolerations\[0\]\.value/);
  assert.equal(validatePod(pod([{ key: "k", operator: "Exists" }]), () => undefined), undefined);
});

test("taints are validated as the API server does: key, value, effect, one per key and effect", () => {
  assert.equal(taintsProblem([taint("example.com/dedicated", "gpu", "NoSchedule"), taint("example.com/dedicated", "gpu", "NoExecute")], "node.taints"), undefined);
  assert.match(taintsProblem([taint("", "", "NoSchedule")], "node.taints")!, /^node\.taints\[0\]\.key: '' is not a qualified name/);
  assert.match(taintsProblem([taint("Example.com/x", "", "NoSchedule")], "node.taints")!, /^node\.taints\[0\]\.key/, "the prefix is a lower-case DNS subdomain");
  assert.match(taintsProblem([taint("k", "has space", "NoSchedule")], "node.taints")!, /^node\.taints\[0\]\.value: 'has space' is not a valid label value/);
  assert.match(taintsProblem([taint("k", "", "")], "node.taints")!, /^node\.taints\[0\]\.effect: '' is not one of NoSchedule, PreferNoSchedule, NoExecute/);
  assert.match(taintsProblem([taint("k", "a", "NoExecute"), taint("k", "b", "NoExecute")], "node.taints")!, /^node\.taints\[1\]: a taint with key 'k' and effect NoExecute is already listed/);
});

test("a manifest's tolerations pass the strict decoder (descriptor-driven) and reach the Pod", () => {
  const yaml = [
    "apiVersion: v1",
    "kind: Pod",
    "metadata: { name: p }",
    "spec:",
    "  containers: [{ name: c, image: busybox }]",
    "  tolerations:",
    "  - { key: maintenance, operator: Exists, effect: NoExecute, tolerationSeconds: 30 }",
    "  - { operator: Exists }",
  ].join("\n");
  const [obj] = decodeManifests(yaml, "p.yaml", { accept: ["Pod"], namespace: "default" });
  assert.equal(obj?.kind, "Pod");
  const p = obj!.object as Pod;
  assert.deepEqual(p.spec!.tolerations, [tol({ key: "maintenance", operator: "Exists", effect: "NoExecute", tolerationSeconds: 30n }), tol({ operator: "Exists" })]);
  // A misspelt field inside a toleration is named, as everywhere else.
  assert.throws(() => decodeManifests(yaml.replace("effect: NoExecute", "efect: NoExecute"), "p.yaml", { accept: ["Pod"], namespace: "default" }), /spec\.tolerations\[0\]\.efect: unknown field/);
});
