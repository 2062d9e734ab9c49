// The evented relist (pods/relist-schedule.ts on a fake clock, pods/pleg.ts
// on a fake runtime): when relists run with and without the runtime's change
// events, how a burst of changes coalesces, and when the cache counts as fresh.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "@plasmacloud/common/log";
import { Pleg } from "../../src/pods/pleg";
import { RelistSchedule } from "../../src/pods/relist-schedule";
import type { PodRuntime, PodRuntimeState, RuntimeChange } from "../../src/runtime/types";

const O = { periodMs: 1000, eventedPeriodMs: 300_000, minGapMs: 100, freshMarginMs: 200, exitWaitMs: 30_000 };
const quiet = createLogger({ component: "test", level: "error" });
const running = (cid: string, sid = "s1"): Map<string, PodRuntimeState> =>
  new Map([["u1", { sandboxes: [{ id: sid, ready: true }], containers: [{ id: cid, state: "running" }] } as unknown as PodRuntimeState]]);
const exited = (cid: string): Map<string, PodRuntimeState> =>
  new Map([["u1", { sandboxes: [{ id: "s1", ready: true }], containers: [{ id: cid, state: "exited" }] } as unknown as PodRuntimeState]]);

/** One relist at `t`, answered with `all`. */
function relistAt(s: RelistSchedule, t: number, all: Map<string, PodRuntimeState> = new Map()): void {
  s.started(t);
  s.answered(t, all);
}

test("without events: a relist every period, and the cache is as fresh as the last relist's start", () => {
  const s = new RelistSchedule(O, 0);
  assert.equal(s.dueAt(), 1000);
  relistAt(s, 1000);
  assert.equal(s.dueAt(), 2000);
  assert.equal(s.freshAt(5000), 1000);
  s.changed(1500, "", false); // no stream: a stray change does not make the cache fresh
  assert.equal(s.freshAt(5000), 1000);
});

test("events up: one relist soon to cover what came before, then only the evented period", () => {
  const s = new RelistSchedule(O, 0);
  s.streamUp(10);
  assert.equal(s.dueAt(), 1000, "no sooner than a generic period after the last relist (here: the start)");
  assert.equal(s.freshAt(50), -1, "nothing answered yet");
  relistAt(s, 1000);
  assert.equal(s.dueAt(), 1000 + 300_000);
  // Nothing changed since: the cache counts as of now minus the margin, however old the relist.
  assert.equal(s.freshAt(60_000), 60_000 - 200);
  assert.equal(s.freshAt(1100), 1000, "never older than the relist itself");
  // A change long after the last relist: relisted the minimum gap after it.
  s.changed(90_000, "", false);
  assert.equal(s.dueAt(), 90_100);
});

test("a burst of changes costs no more relists than the generic relist, plus a second look", () => {
  const s = new RelistSchedule(O, 0);
  s.streamUp(0);
  relistAt(s, 100);
  let relists = 0;
  let last = 0;
  // 50 changes over 250 ms, a relist whenever one is due, over 3 s.
  for (let t = 1000; t < 4000; t++) {
    if (t < 1250 && t % 5 === 0) s.changed(t, "", false);
    if (s.dueAt() <= t) {
      relistAt(s, t);
      relists++;
      last = t;
    }
  }
  assert.ok(relists >= 3 && relists <= 5, `${relists} relists for 50 changes`);
  assert.equal(last, 1245 + 1000, "the last one is the second look, a period after the last change");
  assert.equal(s.dueAt(), last + 300_000, "then back to the evented period");
});

test("a change is looked at again a generic period later: CRI's view lags containerd's events", () => {
  const s = new RelistSchedule(O, 0);
  s.streamUp(0);
  relistAt(s, 100);
  s.changed(5000, "c1", false);
  assert.equal(s.dueAt(), 5100);
  relistAt(s, 5100);
  assert.equal(s.dueAt(), 6000, "the second look");
  assert.equal(s.freshAt(5500), 5100, "not fresh beyond the relist until the second look");
  relistAt(s, 6000);
  assert.equal(s.dueAt(), 6000 + 300_000);
  assert.equal(s.freshAt(7000), 7000 - 200);
});

test("an exit is looked at every period until CRI shows the container stopped", () => {
  const s = new RelistSchedule(O, 0);
  s.streamUp(0);
  relistAt(s, 100, running("c1"));
  s.changed(5000, "c1", true);
  relistAt(s, 5100, running("c1")); // CRI still says running
  assert.equal(s.dueAt(), 6000);
  relistAt(s, 6000, running("c1"));
  assert.equal(s.dueAt(), 7000, "still running in CRI: look again");
  assert.equal(s.freshAt(6500), 6000);
  relistAt(s, 7000, exited("c1"));
  assert.equal(s.dueAt(), 7000 + 300_000);
  assert.equal(s.freshAt(8000), 8000 - 200);
});

test("an exit of something this node does not hold needs no second look beyond the first", () => {
  const s = new RelistSchedule(O, 0);
  s.streamUp(0);
  relistAt(s, 100, running("c1"));
  s.changed(5000, "other-node-container", true);
  relistAt(s, 5100, running("c1"));
  relistAt(s, 6000, running("c1"));
  assert.equal(s.dueAt(), 6000 + 300_000);
});

test("an exit CRI never shows is given up on after exitWaitMs", () => {
  const s = new RelistSchedule(O, 0);
  s.streamUp(0);
  relistAt(s, 100, running("c1"));
  s.changed(1000, "c1", true);
  let last = 0;
  for (let t = 1100; t < 100_000; t = s.dueAt()) {
    relistAt(s, t, running("c1"));
    last = t;
  }
  assert.equal(last, 31_000, "looked at every period until 30 s after the exit, then no more");
});

test("a change while a relist is in flight: not fresh until a relist begun after it answers", () => {
  const s = new RelistSchedule(O, 0);
  s.streamUp(0);
  relistAt(s, 100);
  s.started(10_000);
  s.changed(10_001, "", false); // arrives while that relist is in flight
  s.answered(10_000, new Map());
  assert.equal(s.freshAt(10_500), 10_000);
  assert.equal(s.dueAt(), 11_000, "covered by the next relist, a generic period after the one in flight");
});

test("the stream dropping: relist soon, then the generic period; the cache no longer counts as fresh", () => {
  const s = new RelistSchedule(O, 0);
  s.streamUp(0);
  relistAt(s, 100);
  assert.equal(s.freshAt(50_000), 50_000 - 200);
  s.streamDown(50_000);
  assert.equal(s.freshAt(50_050), 100);
  assert.ok(s.dueAt() <= 50_000, "at once");
  relistAt(s, 50_000);
  assert.equal(s.dueAt(), 51_000);
});

test("a failed relist with events up: retried a generic period later, no fresher cache", () => {
  const s = new RelistSchedule(O, 0);
  s.streamUp(0);
  relistAt(s, 100);
  s.changed(1000, "", false);
  s.started(1100);
  s.failed(1100);
  assert.equal(s.dueAt(), 2000, "the change's second look");
  assert.equal(s.freshAt(1500), 100);
  s.started(2000);
  s.failed(2000);
  assert.equal(s.dueAt(), 3000, "failing: every generic period");
});

/** A runtime whose relist is counted (and can be held), with events the test sends. */
function eventedRuntime() {
  let send: ((c: RuntimeChange) => void) | undefined;
  let drop: ((err: unknown) => void) | undefined;
  let relists = 0;
  const starts: number[] = [];
  let hold: Promise<void> | undefined;
  const rt = {
    relist: async () => {
      relists++;
      starts.push(performance.now());
      await hold;
      return new Map<string, PodRuntimeState>();
    },
    watchChanges: (signal: AbortSignal, onChange: (c: RuntimeChange) => void) =>
      new Promise<void>((resolve, reject) => {
        send = onChange;
        drop = reject;
        signal.addEventListener("abort", () => resolve(), { once: true });
      }),
  } as unknown as PodRuntime;
  return {
    rt,
    send: (c: RuntimeChange) => send!(c),
    drop: (err: unknown) => drop!(err),
    get relists() {
      return relists;
    },
    /** When each relist began (performance.now(), the Pleg's clock). */
    starts,
    hold(p: Promise<void> | undefined) {
      hold = p;
    },
  };
}

const until = async (what: string, fn: () => boolean): Promise<void> => {
  for (let i = 0; i < 500 && !fn(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(fn(), what);
};

test("Pleg: events coalesce (one relist in flight, one pending) and only the relist's second look follows", async () => {
  const f = eventedRuntime();
  const ac = new AbortController();
  const pleg = new Pleg(f.rt, quiet, { periodMs: 200, eventedPeriodMs: 600_000, minGapMs: 20 }, () => {});
  const run = pleg.run(ac.signal);
  try {
    await until("the watch to start", () => {
      try {
        f.send({ kind: "up" });
        return true;
      } catch {
        return false;
      }
    });
    await until("the relist after up", () => f.relists === 1);
    let release!: () => void;
    f.hold(new Promise<void>((r) => (release = r)));
    f.send({ kind: "change", id: "", exit: false, createdAt: Date.now() });
    await until("a relist for the change", () => f.relists === 2);
    // 100 changes while that relist is held: one more relist covers them all.
    for (let i = 0; i < 100; i++) f.send({ kind: "change", id: "", exit: false, createdAt: Date.now() });
    const lastChange = performance.now();
    f.hold(undefined);
    release();
    await until("the pending relist", () => f.relists >= 3);
    // The second look is due a generic period (200 ms) after the last change.
    // A pending relist that a busy machine started that late is itself that
    // look: then nothing follows it.
    const late = f.starts[2]! - lastChange;
    if (late < 195) await until("the second look", () => f.relists >= 4);
    await new Promise((r) => setTimeout(r, 500)); // 2.5 generic periods: nothing more
    if (late < 195) assert.equal(f.relists, 4);
    else if (late > 205) assert.equal(f.relists, 3, `the pending relist began ${late.toFixed(0)} ms after the last change`);
    else assert.ok(f.relists === 3 || f.relists === 4, `at the boundary: ${f.relists}`);
  } finally {
    ac.abort();
    await run;
  }
});

test("Pleg: the stream dropping falls back to the generic period; Unimplemented ends the watch for good", async () => {
  const f = eventedRuntime();
  const ac = new AbortController();
  const pleg = new Pleg(f.rt, quiet, { periodMs: 50, eventedPeriodMs: 600_000, minGapMs: 10 }, () => {});
  const run = pleg.run(ac.signal);
  try {
    await until("up", () => {
      try {
        f.send({ kind: "up" });
        return true;
      } catch {
        return false;
      }
    });
    await until("first relist", () => f.relists >= 1);
    await new Promise((r) => setTimeout(r, 500));
    const quietCount = f.relists;
    assert.ok(quietCount <= 1, `no generic relists while events flow (${quietCount})`);
    // The only relist is ~500 ms old, yet nothing changed since: fresh as of now minus the 200 ms margin.
    assert.deepEqual(pleg.newerThan("u1", performance.now() - 300), { sandboxes: [], containers: [] });
    assert.equal(pleg.newerThan("u1", performance.now() - 100), undefined, "within the margin: read the runtime");
    assert.ok(pleg.healthyAt >= Date.now() - 1000, "events flowing: the runtime counts as seen now");
    f.drop(Object.assign(new Error("stream dropped"), { code: "Unavailable" }));
    await until("generic relists again", () => f.relists >= quietCount + 3);
    assert.equal(pleg.newerThan("u1", performance.now()), undefined, "no cache newer than the last relist without events");
  } finally {
    ac.abort();
    await run;
  }
  // A runtime without events (CRI-O): watchChanges rejects Unimplemented and the generic relist runs on.
  const { CodedError } = await import("@plasmacloud/common/errors");
  let calls = 0;
  let relists = 0;
  const none = {
    relist: async () => (relists++, new Map()),
    watchChanges: async () => {
      calls++;
      throw new CodedError("Unimplemented", "unknown service containerd.services.events.v1.Events");
    },
  } as unknown as PodRuntime;
  const ac2 = new AbortController();
  const run2 = new Pleg(none, quiet, { periodMs: 30, eventedPeriodMs: 600_000 }, () => {}).run(ac2.signal);
  await until("generic relists", () => relists >= 3);
  ac2.abort();
  await run2;
  assert.equal(calls, 1, "asked once, never again");
});

test("config: runtime.eventedRelistSeconds defaults to the kubelet's 300; 0 turns events off; below relistSeconds is refused by name", async () => {
  const { buildConfig } = await import("../../src/config/schema");
  const base = { controlPlane: { address: "127.0.0.1:6443", tokenFile: "/t" } };
  assert.equal(buildConfig(base).runtime.eventedRelistSeconds, 300);
  assert.equal(buildConfig(base, { runtime: { eventedRelistSeconds: 0 } }).runtime.eventedRelistSeconds, 0);
  assert.throws(() => buildConfig(base, { runtime: { relistSeconds: 2, eventedRelistSeconds: 1 } }), /config field 'runtime\.eventedRelistSeconds': must be 0 \(no runtime events\) or >= runtime\.relistSeconds \(2\), got 1/);
  assert.throws(() => buildConfig(base, { runtime: { eventedRelistSeconds: "300" } }), /runtime\.eventedRelistSeconds': must be a number/);
});

test("containerd events: a container's exit is an exit of its id; an exec'd process's (a probe's) is no change", async () => {
  const { changeOf } = await import("../../src/runtime/events");
  const { TaskExit } = await import("@plasmacloud/proto/containerd");
  const env = (topic: string, exit?: { containerId: string; id: string }) => ({
    timestamp: new Date(1000),
    namespace: "k8s.io",
    topic,
    event: exit ? { typeUrl: "containerd.events.TaskExit", value: Buffer.from(TaskExit.encode(exit).finish()) } : undefined,
  });
  assert.deepEqual(changeOf(env("/tasks/exit", { containerId: "c1", id: "c1" })), { kind: "change", id: "c1", exit: true, createdAt: 1000 });
  assert.equal(changeOf(env("/tasks/exit", { containerId: "c1", id: "exec-42" })), undefined);
  assert.deepEqual(changeOf(env("/containers/delete")), { kind: "change", id: "", exit: false, createdAt: 1000 });
});
