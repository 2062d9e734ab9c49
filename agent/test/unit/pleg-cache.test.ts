// The relist's pod cache (pods/pleg.ts newerThan): a sync may use the last
// relist's view of its pod only when that relist began after the sync's
// previous run ended; otherwise the runtime must be read afresh.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "@plasmacloud/common/log";
import { Pleg } from "../../src/pods/pleg";
import type { PodRuntime, PodRuntimeState } from "../../src/runtime/types";

function fakeRuntime(states: () => Map<string, PodRuntimeState>, gate?: Promise<void>): PodRuntime {
  return { relist: async () => { const s = states(); await gate; return s; } } as unknown as PodRuntime;
}
const sandbox = (id: string) => ({ id, ready: true }) as PodRuntimeState["sandboxes"][number];
const quiet = createLogger({ component: "test", level: "error" });

test("a relist begun after the last sync answers for the pod; one begun before does not", async () => {
  const pleg = new Pleg(fakeRuntime(() => new Map([["u1", { sandboxes: [sandbox("s1")], containers: [] }]])), quiet, { periodMs: 1000, eventedPeriodMs: 0 }, () => {});
  assert.equal(pleg.newerThan("u1", -1), undefined, "no relist yet: read the runtime");
  const before = performance.now();
  await pleg.relist();
  assert.deepEqual(pleg.newerThan("u1", before)?.sandboxes.map((s) => s.id), ["s1"]);
  assert.deepEqual(pleg.newerThan("u2", before), { sandboxes: [], containers: [] }, "a pod the runtime holds nothing of");
  const syncEnded = performance.now();
  assert.equal(pleg.newerThan("u1", syncEnded), undefined, "a sync after the relist may have changed the pod");
});

test("a relist that began before a sync ended is not newer, even if it answers after", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const pleg = new Pleg(fakeRuntime(() => new Map(), gate), quiet, { periodMs: 1000, eventedPeriodMs: 0 }, () => {});
  const relist = pleg.relist();
  await new Promise((r) => setTimeout(r, 5));
  const syncEnded = performance.now(); // a sync ends while the relist is in flight
  release();
  await relist;
  assert.equal(pleg.newerThan("u1", syncEnded), undefined);
});

test("a failed relist keeps no newer view", async () => {
  let fail = false;
  const rt = { relist: async () => { if (fail) throw new Error("runtime down"); return new Map(); } } as unknown as PodRuntime;
  const pleg = new Pleg(rt, quiet, { periodMs: 1000, eventedPeriodMs: 0 }, () => {});
  await pleg.relist();
  const t = performance.now();
  fail = true;
  await pleg.relist();
  assert.equal(pleg.newerThan("u1", t), undefined);
});

test("the cached view is a copy: a sync changing its lists leaves the cache intact", async () => {
  const pleg = new Pleg(fakeRuntime(() => new Map([["u1", { sandboxes: [sandbox("s1")], containers: [] }]])), quiet, { periodMs: 1000, eventedPeriodMs: 0 }, () => {});
  await pleg.relist();
  pleg.newerThan("u1", -1)!.sandboxes.length = 0;
  assert.equal(pleg.newerThan("u1", -1)!.sandboxes.length, 1);
});

test("snapshot: every pod's view while it is recent enough, else nothing (the reader lists itself)", async () => {
  const pleg = new Pleg(fakeRuntime(() => new Map([["u1", { sandboxes: [sandbox("s1")], containers: [] }]])), quiet, { periodMs: 1000, eventedPeriodMs: 0 }, () => {});
  assert.equal(pleg.snapshot(10_000), undefined, "no relist yet");
  await pleg.relist();
  assert.deepEqual([...pleg.snapshot(10_000)!.keys()], ["u1"]);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(pleg.snapshot(5), undefined, "older than the reader accepts");
});

// Pleg.current: a sync may also start from the previous sync's own final read,
// while no relist reported a change of the pod after that read began.
const own = (id: string, at: number) => ({ state: { sandboxes: [sandbox(id)], containers: [] }, at });

test("current: the last sync's own read holds until a relist reports a change of the pod after it", async () => {
  let states = new Map([["u1", { sandboxes: [sandbox("s1")], containers: [] }]]);
  const pleg = new Pleg(fakeRuntime(() => states), quiet, { periodMs: 1000, eventedPeriodMs: 0 }, () => {});
  await pleg.relist(); // reports u1 (first seen)
  const read = own("s1", performance.now()); // the sync's end read, after that relist answered
  const syncEnd = performance.now();
  assert.deepEqual(pleg.current("u1", syncEnd, read)?.state.sandboxes.map((s) => s.id), ["s1"], "no report since the read: the read holds");
  assert.equal(pleg.current("u1", syncEnd, read)?.at, read.at, "as of when it was read");
  assert.equal(pleg.current("u1", syncEnd), undefined, "without a read of its own: read the runtime");

  states = new Map([["u1", { sandboxes: [sandbox("s1")], containers: [] }], ["u2", { sandboxes: [sandbox("s2")], containers: [] }]]);
  await pleg.relist(); // began after the sync ended: the cache itself answers
  assert.deepEqual(pleg.current("u1", syncEnd, own("stale", read.at))?.state.sandboxes.map((s) => s.id), ["s1"], "a newer cache wins over the read");

  states = new Map([["u1", { sandboxes: [sandbox("s1"), sandbox("s3")], containers: [] }]]);
  let release!: () => void;
  const gated = new Pleg(fakeRuntime(() => states, new Promise<void>((r) => (release = r))), quiet, { periodMs: 1000, eventedPeriodMs: 0 }, () => {});
  const read2 = own("s1", performance.now());
  const relist = gated.relist();
  await new Promise((r) => setTimeout(r, 5));
  const syncEnd2 = performance.now(); // the relist began before the sync ended: not newer than it ...
  release();
  await relist;
  assert.equal(gated.current("u1", syncEnd2, read2), undefined, "... but it reported u1 after the read: read the runtime");
});

test("current: a relist reporting only other pods leaves the read standing", async () => {
  let states = new Map([["u1", { sandboxes: [sandbox("s1")], containers: [] }]]);
  const pleg = new Pleg(fakeRuntime(() => states), quiet, { periodMs: 1000, eventedPeriodMs: 0 }, () => {});
  await pleg.relist();
  const read = own("s1", performance.now());
  states = new Map([["u1", { sandboxes: [sandbox("s1")], containers: [] }], ["u2", { sandboxes: [sandbox("s2")], containers: [] }]]);
  await pleg.relist(); // u1 unchanged, u2 new
  const syncEnd = performance.now();
  assert.deepEqual(pleg.current("u1", syncEnd, read)?.state.sandboxes.map((s) => s.id), ["s1"]);
  pleg.current("u1", syncEnd, read)!.state.sandboxes.length = 0;
  assert.equal(read.state.sandboxes.length, 1, "a copy: the sync may change its lists");
});
