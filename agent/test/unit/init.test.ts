// Init containers and native sidecars: what runs next (the kubelet's
// computeInitContainerActions), the statuses and phase that follow, and what
// kubectl's STATUS column makes of them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Container, Pod } from "@plasmacloud/proto/k8shost";
import type { ContainerInfo, PodRuntimeState } from "../../src/runtime/types";
import { appsFinished, initPlan, restartPolicyOf, type Newest } from "../../src/pods/init";
import { policyRefusals } from "../../src/pods/policy";
import { validatePod } from "../../src/pods/validate";
import { computeStatus, type WorkerNotes } from "../../src/status/compute";
import { podRow, podStatusText } from "../../src/cli/print";

const notes = (waiting: [string, string][] = []): WorkerNotes => ({ waiting: new Map(waiting.map(([n, r]) => [n, { reason: r, message: "" }])), attempts: new Map(), goneTerminated: new Map(), podFailure: undefined, podProblem: undefined, podIPs: ["10.0.0.5"], hostIP: "192.0.2.1", startTime: undefined, runtimeName: "containerd" });
// Partial containers, as a manifest would give them (fromPartial fills the rest).
type InitInput = { name: string } & Record<string, unknown>;
const pod = (policy: string, init: InitInput[], apps = ["app"]): Pod => {
  const p = Pod.fromPartial({ metadata: { uid: "u", name: "p", namespace: "n" }, spec: { restartPolicy: policy, containers: apps.map((n) => ({ name: n, image: "img" })) } });
  p.spec!.initContainers = init.map((c) => Container.fromPartial({ image: "img", ...c } as never));
  return p;
};
const sandbox = { id: "s1", podUid: "u", pod: { uid: "u", name: "p", namespace: "n", orgId: "o", projectId: "p" }, attempt: 0, ready: true, createdAt: 1, ip: "10.0.0.5", netnsPath: "/x" };
const ctr = (name: string, state: ContainerInfo["state"], over: Partial<ContainerInfo> = {}): ContainerInfo => ({ id: `${name}-${over.attempt ?? 0}`, sandboxId: "s1", podUid: "u", name, attempt: 0, state, createdAt: 1, startedAt: 1000, finishedAt: state === "exited" ? 2000 : 0, exitCode: 0, reason: "", message: "", image: "img", imageRef: "sha256:x", ...over });
const st = (containers: ContainerInfo[]): PodRuntimeState => ({ sandboxes: [sandbox], containers });
const newest = (cs: ContainerInfo[]): Newest => (name) => cs.filter((c) => c.name === name).sort((a, b) => b.attempt - a.attempt)[0];
const running = (): boolean => true;

test("init containers run one at a time, in order, each to success", () => {
  const p = pod("Always", [{ name: "a" }, { name: "b" }]);
  const spec = p.spec!;
  assert.equal(initPlan(spec, newest([]), running).next?.name, "a");
  assert.equal(initPlan(spec, newest([ctr("a", "running")]), running).next?.name, "a", "b waits while a runs");
  assert.equal(initPlan(spec, newest([ctr("a", "exited")]), running).next?.name, "b");
  const failed = initPlan(spec, newest([ctr("a", "exited", { exitCode: 1 })]), running);
  assert.equal(failed.next?.name, "a", "a failed init container is retried (OnFailure) under Always");
  assert.equal(failed.failed, undefined);
  const done = initPlan(spec, newest([ctr("a", "exited"), ctr("b", "exited")]), running);
  assert.ok(done.done);
  assert.equal(done.next, undefined);
  // Never: the first failure fails the pod; nothing more starts.
  const never = initPlan(pod("Never", [{ name: "a" }, { name: "b" }]).spec!, newest([ctr("a", "exited", { exitCode: 2 })]), running);
  assert.equal(never.failed?.name, "a");
  assert.equal(never.next, undefined);
  assert.equal(restartPolicyOf(spec, spec.initContainers[0]!, true), "OnFailure");
  assert.equal(restartPolicyOf(pod("Never", [{ name: "a" }]).spec!, spec.initContainers[0]!, true), "Never");
});

test("a sidecar must be started before the next init container, and is kept running after", () => {
  const spec = pod("Never", [{ name: "side", restartPolicy: "Always" }, { name: "setup" }]).spec!;
  assert.equal(initPlan(spec, newest([]), running).next?.name, "side");
  assert.equal(initPlan(spec, newest([ctr("side", "running")]), () => false).next?.name, "side", "not started yet (startup probe)");
  const next = initPlan(spec, newest([ctr("side", "running")]), running);
  assert.equal(next.next?.name, "setup");
  assert.deepEqual(next.keep.map((c) => c.name), ["side"]);
  // A sidecar that exited is restarted whatever the pod's policy: it is not "kept" until it runs again.
  assert.equal(initPlan(spec, newest([ctr("side", "exited", { exitCode: 1 }), ctr("setup", "exited")]), running).next?.name, "side");
  assert.equal(restartPolicyOf(spec, spec.initContainers[0]!, true), "Always");
});

test("a Never pod is finished when its app containers exited, whatever its sidecars do", () => {
  const spec = pod("Never", [{ name: "side", restartPolicy: "Always" }]).spec!;
  assert.ok(appsFinished(spec, newest([ctr("side", "running"), ctr("app", "exited", { exitCode: 0 })])));
  assert.ok(!appsFinished(spec, newest([ctr("side", "running"), ctr("app", "running")])));
  assert.ok(!appsFinished(pod("Always", []).spec!, newest([ctr("app", "exited")])));
  assert.ok(!appsFinished(pod("OnFailure", []).spec!, newest([ctr("app", "exited", { exitCode: 1 })])));
});

test("status while initializing: Pending, Initialized False, apps PodInitializing, kubectl's Init:N/M", () => {
  const p = pod("Always", [{ name: "a" }, { name: "b" }]);
  const s = computeStatus(p, st([ctr("a", "exited"), ctr("b", "running")]), notes());
  assert.equal(s.phase, "Pending");
  assert.equal(s.conditions.find((c) => c.type === "Initialized")?.status, "False");
  assert.equal(s.conditions.find((c) => c.type === "Initialized")?.reason, "ContainersNotInitialized");
  assert.deepEqual(s.initContainerStatuses.map((c) => [c.name, c.ready]), [["a", true], ["b", false]]);
  assert.equal(s.containerStatuses[0]!.state?.waiting?.reason, "PodInitializing");
  assert.equal(podStatusText({ ...p, status: s }), "Init:1/2");
});

test("a failing init container: Init:CrashLoopBackOff under Always, Init:Error and Failed under Never", () => {
  const p = pod("Always", [{ name: "a" }]);
  const s = computeStatus(p, st([ctr("a", "exited", { exitCode: 1, attempt: 1 })]), notes([["a", "CrashLoopBackOff"]]));
  assert.equal(s.phase, "Pending");
  assert.equal(podStatusText({ ...p, status: s }), "Init:CrashLoopBackOff");
  const n = pod("Never", [{ name: "a" }]);
  const f = computeStatus(n, st([ctr("a", "exited", { exitCode: 1, reason: "Error" })]), notes());
  assert.equal(f.phase, "Failed");
  assert.equal(podStatusText({ ...n, status: f }), "Init:Error");
});

test("initialized: Running with sidecars counted for readiness; stays initialized after sidecars stop", () => {
  const p = pod("Never", [{ name: "side", restartPolicy: "Always" }]);
  const s = computeStatus(p, st([ctr("side", "running"), ctr("app", "running")]), notes());
  assert.equal(s.phase, "Running");
  assert.equal(s.conditions.find((c) => c.type === "Initialized")?.status, "True");
  assert.equal(s.conditions.find((c) => c.type === "Ready")?.status, "True");
  assert.equal(podRow({ ...p, status: s }, false)[1], "2/2");
  // Completed: the app exited 0 and the sidecar was stopped (killed by TERM): Succeeded.
  const done = computeStatus(p, st([ctr("side", "exited", { exitCode: 143 }), ctr("app", "exited")]), notes());
  assert.equal(done.phase, "Succeeded");
  assert.equal(done.conditions.find((c) => c.type === "Initialized")?.status, "True");
});

test("validation: restartPolicy only Always and only on init containers; no probes on regular init containers; unique names", () => {
  const v = (p: Pod): string | undefined => validatePod(p, () => undefined);
  assert.equal(v(pod("Always", [{ name: "side", restartPolicy: "Always", readinessProbe: { periodSeconds: 1, exec: { command: ["true"] } } }])), undefined);
  assert.match(v(pod("Always", [{ name: "a", restartPolicy: "OnFailure" }]))!, /^spec\.initContainers\[0\]\.restartPolicy: 'OnFailure' is not supported/);
  assert.match(v(pod("Always", [{ name: "a", livenessProbe: { exec: { command: ["true"] } } }]))!, /^spec\.initContainers\[0\]\.livenessProbe: may not be set/);
  assert.match(v(pod("Always", [{ name: "app" }]))!, /^spec\.containers\[0\]\.name: duplicate container name 'app'/);
  const appWithPolicy = pod("Always", []);
  appWithPolicy.spec!.containers[0]!.restartPolicy = "Always";
  assert.match(v(appWithPolicy)!, /^spec\.containers\[0\]\.restartPolicy: may not be set for non-init containers/);
  assert.match(v(pod("Always", [{ name: "a", image: " " }]))!, /^spec\.initContainers\[0\]\.image: must not be empty/);
});

test("the node's security policy covers init containers: a privileged one is refused by name", () => {
  const p = pod("Always", [{ name: "setup", securityContext: { privileged: true, capabilities: { add: ["SYS_ADMIN"], drop: [] } } }]);
  const policy = { allowPrivileged: false, allowedCapabilities: [], allowHostNamespaces: false, allowedUnsafeSysctls: [], seccompDefault: false, seccompProfileRoot: "/x" };
  const r = policyRefusals(p, policy);
  assert.deepEqual(r.map((x) => [x.container, x.message.split(":")[0]]), [
    ["setup", "spec.initContainers[0].securityContext.privileged"],
    ["setup", "spec.initContainers[0].securityContext.capabilities.add[0]"],
  ]);
});
