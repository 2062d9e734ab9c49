// Which container instance `logs` reads: the API server's container-name rules
// and the kubelet's instance choice, over statuses as the agent computes them
// (so the restart number of each instance is the attempt its file is named by).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Pod } from "@plasmacloud/proto/k8shost";
import { containerName, instanceRunning, logTarget } from "../../src/logs/locate";
import type { ContainerInfo, PodRuntimeState } from "../../src/runtime/types";
import { computeStatus, type WorkerNotes } from "../../src/status/compute";

const notes = (waiting: [string, string][] = []): WorkerNotes => ({
  waiting: new Map(waiting.map(([c, reason]) => [c, { reason, message: "" }])),
  attempts: new Map(),
  goneTerminated: new Map(),
  podFailure: undefined,
  podProblem: undefined,
  podIPs: [],
  hostIP: "",
  startTime: undefined,
  runtimeName: "containerd",
});
const spec = (names: string[], init: string[] = []) => ({ restartPolicy: "Always", containers: names.map((name) => ({ name, image: "i" })), initContainers: init.map((name) => ({ name, image: "i" })) });
const sandbox = { id: "s1", podUid: "u", pod: { uid: "u", name: "web", namespace: "n", orgId: "o", projectId: "p" }, attempt: 0, ready: true, createdAt: 1, ip: "", netnsPath: "" };
const ctr = (name: string, attempt: number, state: ContainerInfo["state"]): ContainerInfo => ({
  id: `${name}-${attempt}`, sandboxId: "s1", podUid: "u", name, attempt, state, createdAt: attempt + 1, startedAt: 1000, finishedAt: state === "exited" ? 2000 : 0, exitCode: 1, reason: "Error", message: "", image: "i", imageRef: "",
});
function pod(names: string[], containers: ContainerInfo[], waiting: [string, string][] = [], init: string[] = []): Pod {
  const p = Pod.fromPartial({ metadata: { uid: "u", name: "web", namespace: "n" }, spec: spec(names, init) });
  const state: PodRuntimeState = { sandboxes: [sandbox], containers };
  return { ...p, status: computeStatus(p, state, notes(waiting)) };
}

test("container names: the only container by default; several need -c, listed init first; an unknown one is refused", () => {
  const one = pod(["app"], []);
  assert.equal(containerName(one, undefined), "app");
  const many = pod(["app", "sidecar"], [], [], ["setup"]);
  assert.throws(() => containerName(many, undefined), { message: "a container name must be specified for pod web, choose one of: [setup app sidecar]" });
  assert.equal(containerName(many, "sidecar"), "sidecar");
  assert.equal(containerName(many, "setup"), "setup");
  assert.throws(() => containerName(many, "nope"), { message: "container nope is not valid for pod web" });
});

test("the current instance: the running one; after a restart its file is the new attempt", () => {
  const p = pod(["app"], [ctr("app", 0, "exited"), ctr("app", 1, "running")]);
  assert.deepEqual(logTarget(p, "app", false), { container: "app", attempt: 1, containerId: "containerd://app-1", latest: true });
  assert.ok(instanceRunning(p, logTarget(p, "app", false)));
  assert.deepEqual(logTarget(p, "app", true), { container: "app", attempt: 0, containerId: "containerd://app-0", latest: false });
  assert.ok(!instanceRunning(p, logTarget(p, "app", true)));
});

test("crash loop: both the current and --previous read the run that just exited", () => {
  const p = pod(["app"], [ctr("app", 2, "exited"), ctr("app", 1, "exited")], [["app", "CrashLoopBackOff"]]);
  assert.equal(logTarget(p, "app", false).attempt, 2);
  assert.equal(logTarget(p, "app", true).attempt, 2);
  const exited = pod(["app"], [ctr("app", 0, "exited")]);
  assert.equal(logTarget(exited, "app", false).attempt, 0, "a terminated container's own log");
});

test("no previous instance, or nothing started yet: the kubelet's messages", () => {
  const first = pod(["app"], [ctr("app", 0, "running")]);
  assert.throws(() => logTarget(first, "app", true), { message: 'previous terminated container "app" in pod "web" not found' });
  const pulling = pod(["app"], [], [["app", "ImagePullBackOff"]]);
  assert.throws(() => logTarget(pulling, "app", false), { message: 'container "app" in pod "web" is waiting to start: trying and failing to pull image' });
  const creating = pod(["app"], []);
  assert.throws(() => logTarget(creating, "app", false), { message: 'container "app" in pod "web" is waiting to start: ContainerCreating' });
  const noStatus = Pod.fromPartial({ metadata: { name: "web" }, spec: spec(["app"]) });
  assert.throws(() => logTarget(noStatus, "app", false), { message: 'container "app" in pod "web" is not available' });
});
