// The status manager (status/manager.ts): what the control plane is told and
// when. Pods push independently (one slow push holds up no other pod), a pod's
// statuses land in order with the newest last, and a failing control plane is
// retried after a backoff until the status lands.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CodedError } from "@plasmacloud/common/errors";
import { createLogger } from "@plasmacloud/common/log";
import { Pod, PodStatus, type UpdatePodStatusRequest } from "@plasmacloud/proto/k8shost";
import type { ControlPlane } from "../../src/controlplane/client";
import { StatusManager } from "../../src/status/manager";

const quiet = createLogger({ component: "test", level: "error" });
const pod = (uid: string) => Pod.fromPartial({ metadata: { uid, name: uid, namespace: "n" } });
const phase = (p: string) => PodStatus.fromPartial({ phase: p });

/** A control plane whose UpdatePodStatus answers when the test says so. */
function fakeControlPlane() {
  const calls: { uid: string; phase: string; answer: (err?: Error) => void }[] = [];
  const waiters: (() => void)[] = [];
  const cp = {
    pods: { updatePodStatus: () => undefined },
    call: (_m: string, _fn: unknown, req: UpdatePodStatusRequest) =>
      new Promise<void>((resolve, reject) => {
        calls.push({ uid: req.uid, phase: req.status!.phase, answer: (err) => (err ? reject(err) : resolve()) });
        waiters.splice(0).forEach((w) => w());
      }),
  } as unknown as ControlPlane;
  const callCount = async (n: number): Promise<void> => {
    while (calls.length < n) await new Promise<void>((r) => waiters.push(r));
  };
  return { cp, calls, callCount };
}

test("a pod's push does not wait for another pod's slow one", async () => {
  const { cp, calls, callCount } = fakeControlPlane();
  const landed: string[] = [];
  const m = new StatusManager(cp, quiet, { statusPushed: (uid) => landed.push(uid) });
  void m.run();
  m.set(pod("a"), phase("Running"));
  await callCount(1);
  m.set(pod("b"), phase("Running")); // a's push is still in flight
  await callCount(2);
  calls[1]!.answer();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(landed, ["b"]);
  calls[0]!.answer();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(landed, ["b", "a"]);
  m.stop();
});

test("one push in flight per pod: a status set meanwhile follows it, the newest last", async () => {
  const { cp, calls, callCount } = fakeControlPlane();
  const m = new StatusManager(cp, quiet);
  void m.run();
  m.set(pod("a"), phase("Pending"));
  await callCount(1);
  m.set(pod("a"), phase("Running"));
  m.set(pod("a"), phase("Succeeded")); // replaces Running, never pushed
  await new Promise((r) => setImmediate(r));
  assert.equal(calls.length, 1, "nothing more while the pod's push is in flight");
  calls[0]!.answer();
  await callCount(2);
  assert.deepEqual(calls.map((c) => c.phase), ["Pending", "Succeeded"]);
  calls[1]!.answer();
  m.set(pod("a"), phase("Succeeded"));
  await new Promise((r) => setImmediate(r));
  assert.equal(calls.length, 2, "an unchanged status is not pushed again");
  m.stop();
});

test("a failed push is retried after a backoff until it lands; a pod gone there is dropped", async () => {
  const { cp, calls, callCount } = fakeControlPlane();
  const landed: string[] = [];
  const m = new StatusManager(cp, quiet, { statusPushed: (uid) => landed.push(uid) });
  void m.run();
  m.set(pod("a"), phase("Running"));
  m.set(pod("gone"), phase("Running"));
  await callCount(2);
  calls[0]!.answer(new CodedError("Unavailable", "control plane down"));
  calls[1]!.answer(new CodedError("NotFound", "pod gone"));
  const t0 = Date.now();
  await callCount(3); // the retry, about a second later (1 s +-20 %)
  assert.ok(Date.now() - t0 >= 700, `retried after ${Date.now() - t0} ms`);
  assert.deepEqual(calls.map((c) => c.uid), ["a", "gone", "a"], "the pod the control plane no longer has is not retried");
  calls[2]!.answer();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(landed, ["a"]);
  m.stop();
});
