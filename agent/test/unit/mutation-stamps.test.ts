// The runtime's per-pod mutation stamps (runtime/mutations.ts): a sync that
// changed nothing of its own pod reuses its read; any possible change of the
// pod must show as a different stamp, or the sync would report a stale state.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MutationStamps } from "../../src/runtime/mutations";

test("a pod's stamp moves with its own objects' changes, not with other pods'", () => {
  const m = new MutationStamps();
  m.own("sb-a", "a");
  m.own("c-b", "b");
  const a0 = m.stamp("a");
  m.pod("b");
  m.object("c-b");
  assert.equal(m.stamp("a"), a0, "pod b's changes leave a's stamp");
  m.object("sb-a");
  assert.notEqual(m.stamp("a"), a0, "a change to a's sandbox moves a's stamp");
  const any = m.stamp();
  m.pod("b");
  assert.notEqual(m.stamp(), any, "without a pod: any change moves it");
});

test("a change to an id of no known pod moves every pod's stamp", () => {
  const m = new MutationStamps();
  const a0 = m.stamp("a");
  const b0 = m.stamp("b");
  m.object("unknown");
  assert.notEqual(m.stamp("a"), a0);
  assert.notEqual(m.stamp("b"), b0);
});

test("prune never brings a stamp back to an earlier value", () => {
  const m = new MutationStamps();
  const before = m.stamp("a"); // 0: no change of a yet
  m.pod("a"); // the sync changes a ...
  m.prune(new Set(), new Set()); // ... and a relist that no longer shows a drops its entry
  assert.notEqual(m.stamp("a"), before, "the sync must still see that a changed");
});

test("prune forgets ids the runtime no longer holds: a later change to one counts for every pod", () => {
  const m = new MutationStamps();
  m.own("c1", "a");
  m.prune(new Set(), new Set(["a", "b"]));
  const b0 = m.stamp("b");
  m.object("c1");
  assert.notEqual(m.stamp("b"), b0);
});
