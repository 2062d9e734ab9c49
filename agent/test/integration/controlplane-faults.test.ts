// The control plane goes away for 30 s, and a token that is rejected: running
// pods are left alone, the agent neither crashes nor floods its log, and it
// converges once the control plane (or the token) is back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { BUSYBOX, podRunning, startCluster, startPod, waitFor } from "../helpers/cluster";
import { containersOf, isRunning, purgeNode } from "../helpers/cri";

test("control plane unreachable for 30 s: pods untouched, state converges after", async () => {
  const c = await startCluster();
  try {
    const steady = await startPod(c, { metadata: { name: "steady" }, spec: { terminationGracePeriodSeconds: 2n, containers: [{ name: "s", image: BUSYBOX, command: ["sleep", "3600"] }] } });
    const ids = (await containersOf(steady.metadata!.uid)).map((x) => x.id);

    await c.stopControlPlane();
    const downAt = Date.now();
    // While it is down: the pod keeps running and the agent stays up.
    while (Date.now() - downAt < 30_000) {
      await new Promise((r) => setTimeout(r, 5000));
      assert.ok(c.agent.alive, "agent still running");
      const now = await containersOf(steady.metadata!.uid);
      assert.deepEqual(now.map((x) => x.id), ids);
      assert.ok(now.every(isRunning), "pod untouched while the control plane is down");
    }
    // Meanwhile the desired state changed: one pod deleted, one created.
    c.store.pods.clear();
    await c.startControlPlane();
    const fresh = await c.createPod({ metadata: { name: "after" }, spec: { containers: [{ name: "a", image: BUSYBOX, command: ["sleep", "3600"] }] } });
    await podRunning(c, "after");
    await waitFor("removed pod torn down", async () => (await containersOf(steady.metadata!.uid)).length === 0, 30_000);
    assert.equal((await containersOf(fresh.metadata!.uid)).filter(isRunning).length, 1);
    const errors = c.agent.lines().filter((l) => l.level === 50);
    assert.ok(errors.length <= 6, `a few error lines for the outage, not a flood (${errors.length})`);
    assert.ok(c.agent.lines().some((l) => String(l.msg).includes("recovered")), "recovery is logged");
  } finally {
    await c.close();
    await purgeNode(c.nodeName);
  }
});

test("a rejected token: one clear error, no crash loop, no token in the log; a fixed token is picked up", async () => {
  const c = await startCluster({ nodeToken: "not-a-valid-token" });
  try {
    await new Promise((r) => setTimeout(r, 6000));
    assert.ok(c.agent.alive, "the agent does not exit on Unauthenticated");
    const errors = c.agent.lines().filter((l) => l.level === 50);
    // The loops that call the control plane: node, pods, and the services proxy's two watches.
    assert.ok(errors.length >= 1 && errors.length <= 4, `one error per failing loop, not one per retry (${errors.length})`);
    assert.ok(errors.some((e) => e.code === "Unauthenticated" && String(e.msg).includes("check the token file")), JSON.stringify(errors));
    assert.ok(!c.agent.output.includes("not-a-valid-token"), "the token never appears in the log");
    assert.equal(c.store.nodes.size, 0);

    writeFileSync(c.nodeTokenFile, "node-token\n"); // rotated: re-read without a restart
    await waitFor("node registered with the new token", () => c.store.nodes.has(c.nodeName), 70_000);
    assert.ok(!c.agent.output.includes("node-token"), "the new token is not logged either");
  } finally {
    await c.close();
    await purgeNode(c.nodeName);
  }
});
