// create -> Running with an IP, checked in containerd and the netns table;
// delete -> containers, sandbox, netns, logs gone and the pod finalized.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { BUSYBOX, clusterPerFile, waitFor, type Cluster } from "../helpers/cluster";
import { containersOf, isReady, isRunning, netnsList, sandboxesOf } from "../helpers/cri";

let c: Cluster;
clusterPerFile((started) => (c = started));

test("node registers and reports Ready with real capacity", async () => {
  const node = await waitFor("node Ready", () => {
    const n = c.store.nodes.get(c.nodeName);
    return n?.status?.conditions.some((x) => x.type === "Ready" && x.status === "True") ? n : undefined;
  });
  assert.equal(node.status?.capacity.pods, "110");
  assert.ok(Number(node.status?.capacity.cpu) >= 1);
  assert.match(node.status?.allocatable.memory ?? "", /^\d+Ki$/);
  assert.match(node.status?.nodeInfo?.containerRuntimeVersion ?? "", /^containerd:\/\//);
  for (const t of ["MemoryPressure", "DiskPressure", "PIDPressure"]) assert.ok(node.status?.conditions.some((x) => x.type === t), t);
});

test("a pod runs: all containers started in containerd, IP reported, then deleted without a trace", async () => {
  const created = await c.createPod({
    metadata: { name: "two" },
    spec: {
      containers: [
        { name: "a", image: BUSYBOX, command: ["sh", "-c", "trap 'exit 0' TERM; echo started-a; while true; do sleep 1; done"] },
        { name: "b", image: BUSYBOX, command: ["sleep", "3600"], resources: { requests: { cpu: "250m", memory: "32Mi" }, limits: { cpu: "500m", memory: "64Mi" } } },
      ],
      terminationGracePeriodSeconds: 5n,
    },
  });
  const uid = created.metadata!.uid;
  const pod = await waitFor("pod Running", async () => {
    const p = await c.getPod("two");
    return p?.status?.phase === "Running" && p.status.containerStatuses.every((s) => s.ready) ? p : undefined;
  });
  assert.match(pod.status!.podIp, /^\d+\.\d+\.\d+\.\d+$/);
  assert.deepEqual(pod.status!.podIps.map((i) => i.ip), [pod.status!.podIp]);
  assert.equal(pod.status!.conditions.find((x) => x.type === "Ready")?.status, "True");

  // From outside: exactly one ready sandbox, both containers running, a netns.
  const sandboxes = await sandboxesOf(uid);
  assert.equal(sandboxes.length, 1);
  assert.ok(isReady(sandboxes[0]!));
  const containers = await containersOf(uid);
  assert.deepEqual(containers.filter(isRunning).map((x) => x.metadata?.name).sort(), ["a", "b"]);
  const netnsBefore = netnsList().filter((n) => n.startsWith("cni-"));
  assert.ok(netnsBefore.length >= 1);
  const logFile = join(c.dir, "logs", `default_two_${uid}`, "a", "0.log");
  await waitFor("container log written", () => existsSync(logFile));

  await c.deletePod("two");
  await waitFor("pod finalized (gone from the control plane)", async () => (await c.getPod("two")) === undefined, 20_000);
  assert.equal((await sandboxesOf(uid)).length, 0, "sandbox removed");
  assert.equal((await containersOf(uid)).length, 0, "containers removed");
  assert.ok(!existsSync(join(c.dir, "logs", `default_two_${uid}`)), "log directory removed");
  const netnsAfter = netnsList().filter((n) => n.startsWith("cni-"));
  assert.equal(netnsAfter.length, netnsBefore.length - 1, "pod netns removed");
});

test("a force delete (grace 0) stops a pod that ignores SIGTERM at the minimum grace, not its own 30 s", async () => {
  const pod = await c.createPod({ metadata: { name: "stubborn" }, spec: { containers: [{ name: "c", image: BUSYBOX, command: ["sh", "-c", "trap '' TERM; while true; do sleep 1; done"] }] } });
  await waitFor("stubborn Running", async () => (await c.getPod("stubborn"))?.status?.phase === "Running");
  const t0 = Date.now();
  await c.deletePod("stubborn", 0);
  await waitFor("sandbox removed", async () => (await sandboxesOf(pod.metadata!.uid)).length === 0, 60_000);
  const took = Date.now() - t0;
  assert.ok(took < 20_000, `took ${took} ms: the pod's 30 s grace was used instead of the force delete's`);
});
