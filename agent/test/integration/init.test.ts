// Init containers and native sidecars against the real containerd: order,
// failure, re-run with a new sandbox, and a sidecar's whole life, all read
// from a hostPath file the containers append to and from CRI.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials } from "@grpc/grpc-js";
import { RuntimeServiceClient, StopPodSandboxRequest } from "@plasmacloud/proto/cri";
import { podStatusText } from "../../src/cli/print";
import { BUSYBOX, podRunning, startCluster, waitFor, type Cluster } from "../helpers/cluster";
import { CONTAINERD_SOCK, containersOf, criCall, isReady, sandboxesOf } from "../helpers/cri";

let c: Cluster;
const hostRoot = mkdtempSync(join(tmpdir(), "agent-it-init-"));
before(async () => {
  c = await startCluster({ extraConfig: `volumes: { hostPathPrefixes: ["${hostRoot}"] }` });
});
after(async () => {
  await c?.close();
  rmSync(hostRoot, { recursive: true, force: true });
});

/** A pod whose containers share a hostPath dir; returns the host path of its log file. */
function shared(name: string): { dir: string; log: string; volumes: { name: string; hostPath: { path: string; type: string } }[]; mount: { name: string; mountPath: string }[] } {
  const dir = join(hostRoot, name);
  mkdirSync(dir);
  return { dir, log: join(dir, "log"), volumes: [{ name: "w", hostPath: { path: dir, type: "Directory" } }], mount: [{ name: "w", mountPath: "/w" }] };
}
const lines = (file: string): string[] => {
  try {
    return readFileSync(file, "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
};
const sh = (script: string): string[] => ["sh", "-c", script];

test("init containers run one after another to completion before the app; re-run with a new sandbox", async () => {
  const s = shared("order");
  const created = await c.createPod({
    metadata: { name: "order" },
    spec: {
      volumes: s.volumes,
      terminationGracePeriodSeconds: 1n,
      initContainers: [
        { name: "a", image: BUSYBOX, command: sh("echo a >> /w/log; sleep 1; echo a-done >> /w/log"), volumeMounts: s.mount },
        { name: "b", image: BUSYBOX, command: sh("echo b >> /w/log"), volumeMounts: s.mount },
      ],
      containers: [{ name: "app", image: BUSYBOX, command: sh("echo app >> /w/log; exec sleep 3600"), volumeMounts: s.mount }],
    },
  });
  const pod = await podRunning(c, "order");
  assert.deepEqual(lines(s.log), ["a", "a-done", "b", "app"]);
  const init = pod.status!.initContainerStatuses;
  assert.deepEqual(init.map((x) => [x.name, x.state?.terminated?.reason, x.ready]), [["a", "Completed", true], ["b", "Completed", true]]);
  assert.equal(pod.status!.conditions.find((x) => x.type === "Initialized")?.status, "True");
  // The sandbox dies (stopped from outside): the kubelet makes a new one and runs the init containers again.
  const uid = created.metadata!.uid;
  const [first] = await sandboxesOf(uid);
  const cri = new RuntimeServiceClient(`unix://${CONTAINERD_SOCK}`, credentials.createInsecure());
  try {
    await criCall(cri, cri.stopPodSandbox, StopPodSandboxRequest.fromPartial({ podSandboxId: first!.id }));
  } finally {
    cri.close();
  }
  await waitFor("init re-run in a new sandbox, then the app", () => lines(s.log).join(",") === "a,a-done,b,app,a,a-done,b,app", 60_000);
  const sandboxes = (await sandboxesOf(uid)).filter(isReady);
  assert.equal(sandboxes.length, 1);
  assert.notEqual(sandboxes[0]!.id, first!.id);
  await c.deletePod("order", 0);
});

test("a failing init container: Init:CrashLoopBackOff, restarts counted, the app never created", async () => {
  const created = await c.createPod({
    metadata: { name: "badinit" },
    spec: {
      terminationGracePeriodSeconds: 1n,
      initContainers: [{ name: "check", image: BUSYBOX, command: sh("echo not yet; exit 4") }],
      containers: [{ name: "app", image: BUSYBOX, command: ["sleep", "3600"] }],
    },
  });
  const pod = await waitFor("Init:CrashLoopBackOff", async () => {
    const p = await c.getPod("badinit");
    return p && podStatusText(p) === "Init:CrashLoopBackOff" ? p : undefined;
  });
  const st = pod.status!;
  assert.equal(st.phase, "Pending");
  assert.equal(st.initContainerStatuses[0]!.lastState?.terminated?.exitCode, 4);
  assert.ok(st.initContainerStatuses[0]!.restartCount >= 1);
  assert.equal(st.containerStatuses[0]!.state?.waiting?.reason, "PodInitializing");
  assert.equal(st.conditions.find((x) => x.type === "Initialized")?.reason, "ContainersNotInitialized");
  const names = (await containersOf(created.metadata!.uid)).map((x) => x.metadata!.name);
  assert.ok(names.includes("check") && !names.includes("app"), `containers: ${names.join(",")}`);
  await c.deletePod("badinit", 0);
});

test("restartPolicy Never: a failed init container fails the pod with Init:Error", async () => {
  await c.createPod({
    metadata: { name: "initnever" },
    spec: { restartPolicy: "Never", initContainers: [{ name: "check", image: BUSYBOX, command: sh("exit 2") }], containers: [{ name: "app", image: BUSYBOX, command: ["true"] }] },
  });
  const pod = await waitFor("Failed", async () => {
    const p = await c.getPod("initnever");
    return p?.status?.phase === "Failed" ? p : undefined;
  });
  assert.equal(podStatusText(pod), "Init:Error");
  assert.equal(pod.status!.initContainerStatuses[0]!.restartCount, 0);
  await c.deletePod("initnever", 0);
});

test("a sidecar starts before the app, keeps running beside it, and stops after it; a Never pod with a sidecar completes", async () => {
  const s = shared("sidecar");
  const created = await c.createPod({
    metadata: { name: "sidecar" },
    spec: {
      restartPolicy: "Never",
      volumes: s.volumes,
      terminationGracePeriodSeconds: 5n,
      initContainers: [
        { name: "side", image: BUSYBOX, restartPolicy: "Always", volumeMounts: s.mount, command: sh("trap 'echo side-stop >> /w/log; exit 0' TERM; echo side-start >> /w/log; while true; do sleep 0.2; done") },
      ],
      containers: [{ name: "app", image: BUSYBOX, volumeMounts: s.mount, command: sh("echo app >> /w/log; sleep 2; echo app-done >> /w/log") }],
    },
  });
  const pod = await waitFor("Succeeded", async () => {
    const p = await c.getPod("sidecar");
    return p?.status?.phase === "Succeeded" ? p : undefined;
  }, 60_000);
  assert.deepEqual(lines(s.log), ["side-start", "app", "app-done", "side-stop"]);
  assert.equal(pod.status!.containerStatuses[0]!.state?.terminated?.exitCode, 0);
  assert.ok(pod.status!.initContainerStatuses[0]!.state?.terminated, "the sidecar was stopped");
  await waitFor("no running container left", async () => (await containersOf(created.metadata!.uid)).every((x) => x.state !== 1));
  await c.deletePod("sidecar", 0);
  await waitFor("finalized", async () => !(await c.getPod("sidecar")), 20_000);
});

test("deleting a pod stops the app containers first, then the sidecars, last started first", async () => {
  const s = shared("stoporder");
  const loop = (name: string): string[] => sh(`trap 'echo ${name}-stop >> /w/log; exit 0' TERM; echo ${name} >> /w/log; while true; do sleep 0.2; done`);
  await c.createPod({
    metadata: { name: "stoporder" },
    spec: {
      volumes: s.volumes,
      terminationGracePeriodSeconds: 10n,
      initContainers: [
        { name: "side1", image: BUSYBOX, restartPolicy: "Always", volumeMounts: s.mount, command: loop("side1") },
        { name: "side2", image: BUSYBOX, restartPolicy: "Always", volumeMounts: s.mount, command: loop("side2") },
      ],
      containers: [{ name: "app", image: BUSYBOX, volumeMounts: s.mount, command: loop("app") }],
    },
  });
  await podRunning(c, "stoporder");
  await waitFor("all three started", () => lines(s.log).length === 3);
  assert.deepEqual(lines(s.log), ["side1", "side2", "app"], "sidecars start in order, before the app");
  await c.deletePod("stoporder");
  await waitFor("finalized", async () => !(await c.getPod("stoporder")), 30_000);
  assert.deepEqual(lines(s.log).slice(3), ["app-stop", "side2-stop", "side1-stop"]);
});
