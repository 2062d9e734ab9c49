// The probe worker's state machine and the manager around it, on a fake
// clock: initial delay, period, thresholds, startup gating, hold after a
// liveness failure, a new container starting fresh.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "@plasmacloud/common/log";
import { Pod, type Probe } from "@plasmacloud/proto/k8shost";
import type { PodEvents } from "../../src/events/types";
import { ProbeManager } from "../../src/probes/manager";
import { timing, type ProbeOutcome, type ProbeResult } from "../../src/probes/spec";
import { ProbeWorker, type Clock, type WorkerHost } from "../../src/probes/worker";
import type { ContainerInfo, ExecSyncResult, PodRuntimeState } from "../../src/runtime/types";

class FakeClock implements Clock {
  t = 1_000_000;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    this.timers.set(++this.seq, { at: this.t + ms, fn });
    return this.seq;
  }
  clearTimeout(id: unknown): void {
    this.timers.delete(id as number);
  }
  get pending(): number {
    return this.timers.size;
  }
  /** Moves time forward, firing due timers in order and letting their async work settle. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    }
    this.t = end;
  }
}

const ok: ProbeOutcome = { result: "success", output: "" };
const bad: ProbeOutcome = { result: "failure", output: "HTTP probe failed with statuscode: 500" };

function host(clock: FakeClock, outcomes: () => ProbeOutcome, started = () => true): WorkerHost & { runs: number[]; published: ProbeResult[]; reports: number } {
  const h = {
    clock,
    runs: [] as number[],
    published: [] as ProbeResult[],
    reports: 0,
    probe: async () => {
      h.runs.push(clock.now());
      return outcomes();
    },
    started: () => started(),
    publish: (_id: string, r: ProbeResult) => void h.published.push(r),
    report: () => void h.reports++,
  };
  return h;
}

const probe = (over: Partial<Probe> = {}): Probe => ({ exec: { command: ["true"] }, httpGet: undefined, tcpSocket: undefined, grpc: undefined, initialDelaySeconds: 0, timeoutSeconds: 0, periodSeconds: 0, successThreshold: 0, failureThreshold: 0, ...over });

test("defaults are the kubelet's: period 10 s, timeout 1 s, success 1, failure 3", () => {
  assert.deepEqual(timing(probe()), { initialDelayMs: 0, periodMs: 10_000, timeoutMs: 1000, successThreshold: 1, failureThreshold: 3 });
  assert.deepEqual(timing(probe({ initialDelaySeconds: 5, periodSeconds: 2, timeoutSeconds: 3, successThreshold: 2, failureThreshold: 1 })), { initialDelayMs: 5000, periodMs: 2000, timeoutMs: 3000, successThreshold: 2, failureThreshold: 1 });
});

test("first run after the initial delay since the container started, then every period", async () => {
  const clock = new FakeClock();
  const h = host(clock, () => ok);
  const w = new ProbeWorker("readiness", timing(probe({ initialDelaySeconds: 5, periodSeconds: 2 })), h);
  const started = clock.now() - 1000; // the container started a second ago
  w.track("c1", started);
  await clock.advance(3999);
  assert.deepEqual(h.runs, [], "nothing before initialDelaySeconds");
  await clock.advance(1);
  assert.deepEqual(h.runs, [started + 5000]);
  await clock.advance(6000);
  assert.deepEqual(h.runs, [started + 5000, started + 7000, started + 9000, started + 11000]);
  assert.deepEqual(h.published, ["success", "success", "success", "success"]);
  w.stop();
  assert.equal(clock.pending, 0, "a stopped worker holds no timer");
});

test("thresholds: a result is published only after that many runs in a row", async () => {
  const clock = new FakeClock();
  const seq = [bad, bad, ok, bad, bad, bad, ok, ok];
  let i = 0;
  const h = host(clock, () => seq[i++] ?? ok);
  const w = new ProbeWorker("readiness", timing(probe({ periodSeconds: 1, failureThreshold: 3, successThreshold: 2 })), h);
  w.track("c1", clock.now());
  await clock.advance(5000); // runs 1..6: bad bad ok bad bad bad
  assert.equal(h.runs.length, 6);
  assert.deepEqual(h.published, ["failure"], "two failures then a success reset the count; three in a row publish");
  assert.equal(h.reports, 5, "every failed run is reported");
  await clock.advance(1000); // ok: one success is below successThreshold 2
  assert.deepEqual(h.published, ["failure"]);
  await clock.advance(1000); // ok, ok
  assert.deepEqual(h.published, ["failure", "success"]);
  w.stop();
});

test("liveness failure holds the worker until a new container; the new one starts from scratch", async () => {
  const clock = new FakeClock();
  let outcome = bad;
  const h = host(clock, () => outcome);
  const w = new ProbeWorker("liveness", timing(probe({ periodSeconds: 1, failureThreshold: 2 })), h);
  w.track("c1", clock.now());
  await clock.advance(1000);
  assert.deepEqual(h.published, ["failure"]);
  const runs = h.runs.length;
  await clock.advance(10_000);
  assert.equal(h.runs.length, runs, "on hold: no probe of a container that is being killed");
  assert.equal(clock.pending, 0, "and no timer");
  w.track("c1", clock.now());
  await clock.advance(5000);
  assert.equal(h.runs.length, runs, "the same id does not resume it");
  outcome = ok;
  w.track("c2", clock.now());
  await clock.advance(0);
  assert.equal(h.runs.length, runs + 1, "the new container is probed at once (no initial delay)");
  assert.deepEqual(h.published, ["failure", "success"]);
  w.stop();
});

test("a warning (redirect to another host) counts as a success; an error counts as nothing", async () => {
  const clock = new FakeClock();
  const seq: (ProbeOutcome | Error)[] = [{ result: "warning", output: "redirect" }, new Error("container not running"), new Error("x"), new Error("y")];
  let i = 0;
  const h = host(clock, () => ok);
  h.probe = async () => {
    const o = seq[i++] ?? ok;
    if (o instanceof Error) throw o;
    return o;
  };
  const w = new ProbeWorker("liveness", timing(probe({ periodSeconds: 1, failureThreshold: 1 })), h);
  w.track("c1", clock.now());
  await clock.advance(4000);
  assert.deepEqual(h.published, ["success", "success"], "no failure from three errors with failureThreshold 1");
  assert.equal(h.reports, 4, "the warning and the errors are reported");
  w.stop();
});

// --- the manager: gating, views, kill decisions, wake-ups -------------------

const noLog = createLogger({ component: "test", level: "silent" });

function mkPod(containers: Record<string, unknown>[]): Pod {
  return Pod.fromPartial({ metadata: { uid: "u1", name: "p", namespace: "ns" }, spec: { containers: containers as never } });
}

function state(containers: Partial<ContainerInfo>[], started: number): PodRuntimeState {
  return {
    sandboxes: [{ id: "s1", podUid: "u1", pod: { uid: "u1", name: "p", namespace: "ns", orgId: "o", projectId: "p" }, attempt: 0, ready: true, createdAt: 1, ip: "10.0.0.9", netnsPath: "" }],
    containers: containers.map((c) => ({ id: "", sandboxId: "s1", podUid: "u1", name: "", attempt: 0, state: "running", createdAt: 1, startedAt: started, finishedAt: 0, exitCode: 0, reason: "", message: "", image: "", imageRef: "", ...c })),
  };
}

function manager(clock: FakeClock, exec: (id: string, cmd: string[]) => number) {
  const woken: string[] = [];
  const events: string[] = [];
  const ev: PodEvents = { emit: (_p, type, reason, message, fieldPath) => void events.push(`${type} ${reason} ${fieldPath}: ${message}`) };
  const m = new ProbeManager({
    exec: async (id, cmd): Promise<ExecSyncResult> => ({ exitCode: exec(id, cmd), stdout: Buffer.from("out"), stderr: Buffer.from("") }),
    events: ev,
    log: noLog,
    onChange: (uid) => void woken.push(uid),
    clock,
  });
  return { m, woken, events };
}

test("startup gates liveness and readiness; ready follows readiness once started", async () => {
  const clock = new FakeClock();
  const files = new Set<string>();
  const cmds: string[] = [];
  const { m, woken, events } = manager(clock, (_id, cmd) => {
    cmds.push(cmd[1]!);
    return files.has(cmd[1]!) ? 0 : 1;
  });
  await clock.advance(60_000); // the agent has run a while: no start-up jitter
  const exec = (f: string, failureThreshold: number) => ({ exec: { command: ["test", f] }, periodSeconds: 1, failureThreshold });
  const pod = mkPod([{ name: "app", image: "i", startupProbe: exec("started", 100), livenessProbe: exec("alive", 100), readinessProbe: exec("ready", 1) }]);
  const c = pod.spec!.containers[0]!;
  const view = m.update(pod, state([{ id: "a1", name: "app" }], clock.now()), "10.0.0.9");
  files.add("alive").add("ready");
  await clock.advance(5000);
  assert.deepEqual(new Set(cmds), new Set(["started"]), "only the startup probe runs before it passes");
  assert.equal(view.started("app", "a1"), false);
  assert.equal(view.ready("app", "a1"), false, "not ready before started, whatever readiness would say");
  files.add("started");
  await clock.advance(1000);
  assert.equal(m.started(c, "a1"), true);
  assert.ok(woken.length >= 1, "the pod's sync is woken when the result changes");
  await clock.advance(0);
  assert.equal(view.ready("app", "a1"), true, "readiness runs at once after startup passed");
  const startupRuns = cmds.filter((x) => x === "started").length;
  await clock.advance(3000);
  assert.equal(cmds.filter((x) => x === "started").length, startupRuns, "a passed startup probe does not run again");
  assert.ok(cmds.includes("alive"), "liveness runs once started");
  files.delete("ready");
  await clock.advance(1000);
  assert.equal(view.ready("app", "a1"), false, "readiness failure flips ready back");
  assert.ok(events.some((e) => e === "Warning Unhealthy spec.containers{app}: Readiness probe failed: out"), events.join("\n"));
  assert.equal(m.killFor(c, "a1"), undefined, "readiness never kills");
  m.stop();
  assert.equal(clock.pending, 0);
});

test("liveness failure asks for a kill with the probe's grace; a restarted container is judged afresh", async () => {
  const clock = new FakeClock();
  let healthy = true;
  const { m } = manager(clock, () => (healthy ? 0 : 1));
  await clock.advance(60_000);
  const pod = mkPod([{ name: "app", image: "i", livenessProbe: { exec: { command: ["check"] }, periodSeconds: 1, failureThreshold: 2, terminationGracePeriodSeconds: 7n } }, { name: "plain", image: "i" }]);
  const c = pod.spec!.containers[0]!;
  const view = m.update(pod, state([{ id: "a1", name: "app" }, { id: "b1", name: "plain" }], clock.now()), "10.0.0.9");
  assert.equal(view.ready("plain", "b1"), true, "no probes: ready and started when running");
  assert.equal(view.ready("app", "a1"), true, "no readiness probe: ready when running");
  await clock.advance(3000);
  assert.equal(m.killFor(c, "a1"), undefined);
  healthy = false;
  await clock.advance(2000);
  assert.deepEqual(m.killFor(c, "a1"), { kind: "liveness", graceSeconds: 7 });
  // The container was killed and restarted: a new id, nothing carried over.
  healthy = true;
  m.update(pod, state([{ id: "a2", name: "app", attempt: 1 }, { id: "b1", name: "plain" }], clock.now()), "10.0.0.9");
  assert.equal(m.killFor(c, "a2"), undefined);
  assert.equal(m.killFor(c, "a1"), undefined, "the old instance's results are gone with it");
  await clock.advance(3000);
  assert.equal(m.killFor(c, "a2"), undefined);
  // A container that stops running loses its worker.
  m.update(pod, state([{ id: "a2", name: "app", attempt: 1, state: "exited" }], clock.now()), "10.0.0.9");
  assert.equal(clock.pending, 0, "no worker for a container that does not run");
  m.forget("u1");
});

test("startup failure past its threshold asks for a kill; deletion of the pod stops every worker", async () => {
  const clock = new FakeClock();
  const { m } = manager(clock, () => 1);
  await clock.advance(60_000);
  const pod = mkPod([{ name: "app", image: "i", startupProbe: { exec: { command: ["check"] }, periodSeconds: 1, failureThreshold: 3 }, readinessProbe: { exec: { command: ["r"] } } }]);
  const c = pod.spec!.containers[0]!;
  m.update(pod, state([{ id: "a1", name: "app" }], clock.now()), "10.0.0.9");
  await clock.advance(1500);
  assert.equal(m.killFor(c, "a1"), undefined, "below the failure threshold");
  await clock.advance(1000);
  assert.deepEqual(m.killFor(c, "a1"), { kind: "startup", graceSeconds: undefined });
  m.forget("u1");
  assert.equal(clock.pending, 0);
  assert.equal(m.killFor(c, "a1"), undefined);
});

test("right after the agent starts, first probes are spread over a period", async () => {
  const clock = new FakeClock();
  const runs: number[] = [];
  const { m } = manager(clock, () => {
    runs.push(clock.now());
    return 0;
  });
  const t0 = clock.now();
  const pods = Array.from({ length: 20 }, (_, i) => Pod.fromPartial({ metadata: { uid: `u${i}`, name: `p${i}`, namespace: "ns" }, spec: { containers: [{ name: "app", image: "i", livenessProbe: { exec: { command: ["x"] }, periodSeconds: 10 } }] } }));
  for (const [i, p] of pods.entries()) {
    const st = state([{ id: `c${i}`, name: "app", podUid: `u${i}` }], t0 - 3600_000);
    m.update(p, st, "10.0.0.9");
  }
  await clock.advance(10_000);
  assert.equal(runs.length, 20);
  assert.ok(new Set(runs).size > 1, "not all at the same instant");
  assert.ok(runs.every((r) => r >= t0 && r < t0 + 10_000));
  m.stop();
});
