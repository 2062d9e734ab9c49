// PodStatus from runtime state: the kubelet's phase rules and reasons.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Pod } from "@plasmacloud/proto/k8shost";
import type { ContainerInfo, PodRuntimeState } from "../../src/runtime/types";
import { computeStatus, type WorkerNotes } from "../../src/status/compute";

const notes = (over: Partial<WorkerNotes> = {}): WorkerNotes => ({ waiting: new Map(), attempts: new Map(), goneTerminated: new Map(), podFailure: undefined, podProblem: undefined, podIPs: ["10.0.0.5"], hostIP: "192.0.2.1", startTime: undefined, runtimeName: "containerd", ...over });
const mkPod = (policy: string, names = ["a"]) => Pod.fromPartial({ metadata: { uid: "u", name: "p", namespace: "n" }, spec: { restartPolicy: policy, containers: names.map((n) => ({ name: n, image: "img" })) } });
const sandbox = { id: "s1", podUid: "u", pod: { uid: "u", name: "p", namespace: "n", orgId: "o", projectId: "p" }, attempt: 0, ready: true, createdAt: 1, ip: "10.0.0.5", netnsPath: "/x" };
const ctr = (name: string, state: ContainerInfo["state"], over: Partial<ContainerInfo> = {}): ContainerInfo => ({ id: `${name}-${over.attempt ?? 0}`, sandboxId: "s1", podUid: "u", name, attempt: 0, state, createdAt: 1, startedAt: 1000, finishedAt: state === "exited" ? 2000 : 0, exitCode: 0, reason: "", message: "", image: "img", imageRef: "sha256:x", ...over });
const st = (containers: ContainerInfo[]): PodRuntimeState => ({ sandboxes: [sandbox], containers });

test("running containers: Running, Ready, IP and host IP reported", () => {
  const s = computeStatus(mkPod("Always"), st([ctr("a", "running")]), notes());
  assert.equal(s.phase, "Running");
  assert.equal(s.podIp, "10.0.0.5");
  assert.equal(s.hostIp, "192.0.2.1");
  assert.equal(s.conditions.find((c) => c.type === "Ready")?.status, "True");
  assert.equal(s.containerStatuses[0]!.containerId, "containerd://a-0");
  assert.ok(s.containerStatuses[0]!.state?.running?.startedAt instanceof Date);
});

test("no container yet: Pending with the worker's waiting reason", () => {
  const s = computeStatus(mkPod("Always"), st([]), notes({ waiting: new Map([["a", { reason: "ErrImagePull", message: "not found" }]]) }));
  assert.equal(s.phase, "Pending");
  assert.equal(s.containerStatuses[0]!.state?.waiting?.reason, "ErrImagePull");
  assert.equal(s.conditions.find((c) => c.type === "Ready")?.status, "False");
});

test("crash loop: waiting CrashLoopBackOff with the exit as last state, restart count from attempts", () => {
  const s = computeStatus(mkPod("Always"), st([ctr("a", "exited", { attempt: 2, exitCode: 3 }), ctr("a", "exited", { attempt: 1, exitCode: 3 })]), notes({ waiting: new Map([["a", { reason: "CrashLoopBackOff", message: "back-off" }]]) }));
  const c = s.containerStatuses[0]!;
  assert.equal(s.phase, "Running");
  assert.equal(c.state?.waiting?.reason, "CrashLoopBackOff");
  assert.equal(c.lastState?.terminated?.exitCode, 3);
  assert.equal(c.restartCount, 2);
});

test("terminal phases by restart policy", () => {
  assert.equal(computeStatus(mkPod("Never"), st([ctr("a", "exited", { exitCode: 1 })]), notes()).phase, "Failed");
  assert.equal(computeStatus(mkPod("Never"), st([ctr("a", "exited")]), notes()).phase, "Succeeded");
  assert.equal(computeStatus(mkPod("OnFailure"), st([ctr("a", "exited")]), notes()).phase, "Succeeded");
  assert.equal(computeStatus(mkPod("OnFailure"), st([ctr("a", "exited", { exitCode: 2 })]), notes()).phase, "Running");
  assert.equal(computeStatus(mkPod("Always"), st([ctr("a", "exited")]), notes()).phase, "Running");
  const reason = computeStatus(mkPod("Never"), st([ctr("a", "exited", { exitCode: 137, reason: "OOMKilled" })]), notes()).containerStatuses[0]!.state?.terminated?.reason;
  assert.equal(reason, "OOMKilled");
});

test("a terminal phase is final, an invalid spec fails the pod with its reason", () => {
  const done = mkPod("Never");
  done.status = computeStatus(done, st([ctr("a", "exited")]), notes());
  assert.equal(computeStatus(done, st([]), notes()).phase, "Succeeded");
  const bad = computeStatus(mkPod("Always"), st([]), notes({ podFailure: { reason: "InvalidPodSpec", message: "spec.containers[0].image: must not be empty" } }));
  assert.equal(bad.phase, "Failed");
  assert.equal(bad.reason, "InvalidPodSpec");
  assert.match(bad.message, /containers\[0\]\.image/);
});

test("a pod refused before anything ran lists no containers, as the kubelet's rejectPod; one that ran keeps their ends", () => {
  const refused = { podFailure: { reason: "TaintToleration", message: "Pod was rejected: ..." } };
  const s = computeStatus(mkPod("Always"), st([]), notes(refused));
  assert.deepEqual([s.phase, s.reason, s.containerStatuses, s.initContainerStatuses], ["Failed", "TaintToleration", [], []]);
  assert.deepEqual(s.conditions.map((c) => c.type), ["PodScheduled"]);
  const ran = computeStatus(mkPod("Always"), st([ctr("a", "exited", { exitCode: 137 })]), notes(refused));
  assert.equal(ran.containerStatuses[0]!.state?.terminated?.exitCode, 137);
});

test("a condition keeps its transition time while its status holds", () => {
  const p = mkPod("Always");
  p.status = computeStatus(p, st([ctr("a", "running")]), notes(), new Date(1000));
  const again = computeStatus(p, st([ctr("a", "running")]), notes(), new Date(5000));
  assert.equal(again.conditions.find((c) => c.type === "Ready")?.lastTransitionTime?.getTime(), 1000);
});

test("a container waiting in a new sandbox keeps the restart count of its earlier instances", () => {
  const s = computeStatus(mkPod("Always"), { sandboxes: [sandbox], containers: [] }, notes({ attempts: new Map([["a", 3]]) }));
  assert.equal(s.containerStatuses[0]!.restartCount, 3);
  assert.equal(s.containerStatuses[0]!.state?.waiting?.reason, "ContainerCreating");
});

test("after its sandbox was replaced, a container's last state is how it ended there", () => {
  const ended = { attempt: 3, state: { waiting: undefined, running: undefined, terminated: { exitCode: 137, signal: 0, reason: "Error", message: "", startedAt: new Date(1000), finishedAt: new Date(2000), containerId: "containerd://old" } } };
  const gone = new Map([["a", ended]]);
  // Waiting in the new sandbox, then running there as attempt 4: the old end is the last state.
  const waitingNew = computeStatus(mkPod("Always"), { sandboxes: [sandbox], containers: [] }, notes({ attempts: new Map([["a", 3]]), goneTerminated: gone }));
  assert.equal(waitingNew.containerStatuses[0]!.lastState?.terminated?.containerId, "containerd://old");
  const running = computeStatus(mkPod("Always"), st([ctr("a", "running", { attempt: 4 })]), notes({ goneTerminated: gone }));
  assert.equal(running.containerStatuses[0]!.restartCount, 4);
  assert.equal(running.containerStatuses[0]!.lastState?.terminated?.exitCode, 137);
  // An instance still in the runtime is newer evidence than the remembered one.
  const crashed = computeStatus(mkPod("Always"), st([ctr("a", "running", { attempt: 5 }), ctr("a", "exited", { attempt: 4, exitCode: 2 })]), notes({ goneTerminated: gone }));
  assert.equal(crashed.containerStatuses[0]!.lastState?.terminated?.exitCode, 2);
  // The remembered end never shows as the last state of itself or of something older.
  const same = computeStatus(mkPod("Always"), st([ctr("a", "running", { attempt: 3 })]), notes({ goneTerminated: gone }));
  assert.equal(same.containerStatuses[0]!.lastState, undefined);
});
