// The agent dies (SIGKILL) and comes back: no duplicate sandbox, no orphan,
// running pods untouched, pods deleted meanwhile cleaned up.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BUSYBOX, clusterPerFile, waitFor, type Cluster } from "../helpers/cluster";
import { containersOf, isRunning, sandboxesOf } from "../helpers/cri";

let c: Cluster;
clusterPerFile((started) => (c = started));

const running = async (name: string) => {
  const p = await c.getPod(name);
  return p?.status?.phase === "Running" && p.status.containerStatuses.every((s) => s.state?.running) ? p : undefined;
};

test("killed during pod start and restarted: one sandbox, no duplicate container, Running", async () => {
  await waitFor("node registered", () => c.store.nodes.has(c.nodeName));
  const containers = ["a", "b", "c", "d"].map((name) => ({ name, image: BUSYBOX, command: ["sleep", "3600"] }));
  const pod = await c.createPod({ metadata: { name: "midstart" }, spec: { containers, terminationGracePeriodSeconds: 1n } });
  const uid = pod.metadata!.uid;
  await waitFor("sandbox created", async () => (await sandboxesOf(uid)).length > 0, 20_000, 5);
  await c.agent.kill("SIGKILL");
  const before = await containersOf(uid);
  assert.ok(before.length < 4 || !before.every(isRunning), "the kill landed before the pod was fully started");
  c.agent.start();
  const p = await waitFor("Running after restart", () => running("midstart"), 30_000);
  const sandboxes = await sandboxesOf(uid);
  assert.equal(sandboxes.length, 1, "exactly one sandbox");
  assert.equal(sandboxes[0]!.metadata!.attempt, 0, "never a second sandbox attempt");
  const after = await containersOf(uid);
  assert.deepEqual(after.map((x) => x.metadata!.name).sort(), ["a", "b", "c", "d"], "one container per spec container");
  assert.ok(after.every(isRunning));
  assert.ok(p.status!.containerStatuses.every((s) => s.restartCount === 0));
});

test("a restart adopts running pods untouched and removes pods deleted while it was down", async () => {
  await c.createPod({ metadata: { name: "keep" }, spec: { containers: [{ name: "k", image: BUSYBOX, command: ["sleep", "3600"] }] } });
  const gone = await c.createPod({ metadata: { name: "gone" }, spec: { containers: [{ name: "g", image: BUSYBOX, command: ["sleep", "3600"] }] } });
  const keep = await waitFor("keep Running", () => running("keep"));
  await waitFor("gone Running", () => running("gone"));
  const keepContainers = (await containersOf(keep.metadata!.uid)).map((x) => x.id);

  await c.agent.kill("SIGKILL");
  // Deleted outright (grace 0) while no agent watches: its sandbox is now an orphan.
  await c.deletePod("gone", 0);
  assert.equal((await sandboxesOf(gone.metadata!.uid)).length, 1, "orphan exists while the agent is down");
  c.agent.start();

  await waitFor("orphan removed", async () => (await sandboxesOf(gone.metadata!.uid)).length === 0, 20_000);
  assert.equal((await containersOf(gone.metadata!.uid)).length, 0);
  const now = await containersOf(keep.metadata!.uid);
  assert.deepEqual(now.map((x) => x.id), keepContainers, "same container, not restarted");
  assert.ok(now.every(isRunning));
  assert.equal((await sandboxesOf(keep.metadata!.uid)).length, 1);
  const p = await running("keep");
  assert.equal(p?.status?.containerStatuses[0]?.restartCount, 0);
});
