// Containers that exit: restart policy, crash-loop backoff, terminal phases.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BUSYBOX, clusterPerFile, waitFor, type Cluster } from "../helpers/cluster";
import { containersOf, sandboxesOf } from "../helpers/cri";

let c: Cluster;
clusterPerFile((started) => (c = started));

test("a crashing container restarts with backoff and reports CrashLoopBackOff", async () => {
  const created = await c.createPod({ metadata: { name: "crash" }, spec: { containers: [{ name: "c", image: BUSYBOX, command: ["sh", "-c", "echo boom; exit 3"] }] } });
  const pod = await waitFor(
    "CrashLoopBackOff",
    async () => {
      const p = await c.getPod("crash");
      const s = p?.status?.containerStatuses[0];
      return s?.state?.waiting?.reason === "CrashLoopBackOff" ? p : undefined;
    },
    30_000,
  );
  const s = pod.status!.containerStatuses[0]!;
  assert.ok(s.restartCount >= 1, `restartCount ${s.restartCount}`);
  assert.equal(s.lastState?.terminated?.exitCode, 3);
  assert.equal(s.lastState?.terminated?.reason, "Error");
  assert.match(s.state!.waiting!.message, /back-off \d+s restarting failed container=c/);
  assert.equal(pod.status!.phase, "Running", "restartPolicy Always keeps the pod Running");
  // Backoff: within 8 s of entering CrashLoopBackOff no new attempt is made (first delay is 10 s).
  const attempts = (await containersOf(created.metadata!.uid)).map((x) => x.metadata!.attempt);
  await new Promise((r) => setTimeout(r, 5000));
  const later = (await containersOf(created.metadata!.uid)).map((x) => x.metadata!.attempt);
  assert.equal(Math.max(...later), Math.max(...attempts), "no restart during the back-off window");
  assert.equal((await sandboxesOf(created.metadata!.uid)).length, 1, "restarts reuse the sandbox");
  await c.deletePod("crash", 0);
});

test("restartPolicy Never: a failed container fails the pod; OnFailure: success completes it", async () => {
  await c.createPod({ metadata: { name: "never" }, spec: { restartPolicy: "Never", containers: [{ name: "c", image: BUSYBOX, command: ["sh", "-c", "exit 7"] }] } });
  await c.createPod({ metadata: { name: "onfail" }, spec: { restartPolicy: "OnFailure", containers: [{ name: "c", image: BUSYBOX, command: ["true"] }] } });
  const never = await waitFor("pod Failed", async () => {
    const p = await c.getPod("never");
    return p?.status?.phase === "Failed" ? p : undefined;
  });
  assert.equal(never.status!.containerStatuses[0]!.state?.terminated?.exitCode, 7);
  assert.equal(never.status!.containerStatuses[0]!.restartCount, 0);
  const ok = await waitFor("pod Succeeded", async () => {
    const p = await c.getPod("onfail");
    return p?.status?.phase === "Succeeded" ? p : undefined;
  });
  assert.equal(ok.status!.containerStatuses[0]!.state?.terminated?.reason, "Completed");
  // A finished pod holds no running sandbox.
  await waitFor("sandbox stopped", async () => (await sandboxesOf(ok.metadata!.uid)).every((s) => s.state === 1));
  await c.deletePod("never");
  await c.deletePod("onfail");
  await waitFor("both finalized", async () => !(await c.getPod("never")) && !(await c.getPod("onfail")), 20_000);
});
