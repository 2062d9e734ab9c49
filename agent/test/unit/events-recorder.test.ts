// The agent's event recorder keeps client-go's record semantics: repeats become
// one event with a count (sent as updates of the first), ten variants of a
// message within ten minutes become one "(combined from similar events)"
// event, a source+object gets 25 events and then one per 5 minutes, the queue
// is bounded and never blocks the caller, Unavailable is retried, NotFound on
// an update re-creates, a refusal is dropped and counted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Event, NodeCondition, Pod } from "@plasmacloud/proto/k8shost";
import { CodedError } from "@plasmacloud/common/errors";
import { createLogger } from "@plasmacloud/common/log";
import { COMBINED_PREFIX } from "../../src/events/correlator";
import { goDuration } from "../../src/events/format";
import { nodeStatusReasons } from "../../src/events/node";
import { EventRecorder, type DropReason } from "../../src/events/recorder";
import type { EventSink } from "../../src/events/sink";

const log = createLogger({ component: "test", level: "silent", sink: () => undefined });
const pod = Pod.fromPartial({ metadata: { name: "web", namespace: "default", uid: "u1", orgId: "o", projectId: "p" }, spec: { containers: [{ name: "c", image: "i" }] } });

interface Call {
  op: "create" | "update";
  event: Event;
}

/** A sink with server semantics enough to check what is sent: names, counts, resource versions. */
function fakeSink(fail?: (call: Call, n: number) => CodedError | undefined): EventSink & { calls: Call[]; stored: Map<string, Event> } {
  const calls: Call[] = [];
  const stored = new Map<string, Event>();
  let rv = 0;
  const answer = (op: Call["op"], e: Event): Promise<Event> => {
    const call = { op, event: structuredClone(e) };
    calls.push(call);
    const err = fail?.(call, calls.length);
    if (err) return Promise.reject(err);
    const name = e.metadata!.name;
    if (op === "update") {
      const cur = stored.get(name);
      if (!cur) return Promise.reject(new CodedError("NotFound", `event ${name} not found`));
      if (e.metadata!.resourceVersion && e.metadata!.resourceVersion !== cur.metadata!.resourceVersion) return Promise.reject(new CodedError("Conflict", "stale"));
    } else if (stored.has(name)) return Promise.reject(new CodedError("Conflict", "exists"));
    const out = structuredClone(e);
    out.metadata!.resourceVersion = String(++rv);
    stored.set(name, out);
    return Promise.resolve(structuredClone(out));
  };
  return { calls, stored, create: (e) => answer("create", e), update: (e) => answer("update", e) };
}

function recorder(sink: EventSink, over: Partial<ConstructorParameters<typeof EventRecorder>[1]> = {}) {
  let now = Date.parse("2030-01-01T00:00:00Z");
  const drops: DropReason[] = [];
  const r = new EventRecorder(sink, { nodeName: "n1", log, now: () => now, retrySleepMs: 1, onDrop: (d) => drops.push(d), ...over });
  const loop = r.run();
  return {
    r,
    drops,
    advance: (ms: number) => (now += ms),
    async done() {
      await r.drained();
      r.stop();
      await loop;
    },
  };
}

test("repeats of one event are one event with a count, sent as updates with the server's resource version", async () => {
  const sink = fakeSink();
  const t = recorder(sink);
  t.r.emit(pod, "Warning", "BackOff", "Back-off restarting failed container c", "spec.containers{c}");
  await t.r.drained();
  t.advance(5000);
  t.r.emit(pod, "Warning", "BackOff", "Back-off restarting failed container c", "spec.containers{c}");
  t.r.emit(pod, "Warning", "BackOff", "Back-off restarting failed container c", "spec.containers{c}");
  t.r.emit(pod, "Normal", "Pulled", "Container image \"i\" already present on machine", "spec.containers{c}");
  await t.done();
  assert.deepEqual(sink.calls.map((c) => [c.op, c.event.reason, c.event.count]), [["create", "BackOff", 1], ["update", "BackOff", 2], ["update", "BackOff", 3], ["create", "Pulled", 1]]);
  assert.equal(sink.stored.size, 2);
  const backoff = [...sink.stored.values()].find((e) => e.reason === "BackOff")!;
  assert.match(backoff.metadata!.name, /^web\.[0-9a-f]+$/);
  assert.equal(backoff.count, 3);
  assert.equal(backoff.lastTimestamp!.getTime() - backoff.firstTimestamp!.getTime(), 5000, "first kept, last moves");
  assert.deepEqual(backoff.involvedObject, { kind: "Pod", namespace: "default", name: "web", uid: "u1", fieldPath: "spec.containers{c}" });
  assert.deepEqual(backoff.source, { component: "kubelet", host: "n1" });
  assert.equal(backoff.metadata!.orgId, "o");
  assert.deepEqual(t.drops, []);
});

test("ten messages of one reason within ten minutes become one combined event that counts the rest", async () => {
  const sink = fakeSink();
  const t = recorder(sink);
  for (let i = 1; i <= 12; i++) t.r.emit(pod, "Warning", "FailedMount", `volume v${i} not ready`);
  await t.done();
  const creates = sink.calls.filter((c) => c.op === "create");
  assert.equal(creates.length, 10, "nine plain events, then the aggregate");
  const combined = [...sink.stored.values()].filter((e) => e.message.startsWith(COMBINED_PREFIX));
  assert.equal(combined.length, 1);
  assert.equal(combined[0]!.message, `${COMBINED_PREFIX}volume v12 not ready`, "the latest message");
  assert.equal(combined[0]!.count, 3, "the 10th, 11th and 12th");
  // Past the interval, a new message starts over as a plain event.
  const t2 = recorder(sink);
  for (let i = 1; i <= 10; i++) t2.r.emit(pod, "Warning", "Unhealthy", `probe ${i}`);
  await t2.r.drained();
  t2.advance(601_000);
  t2.r.emit(pod, "Warning", "Unhealthy", "probe 11");
  await t2.done();
  assert.equal(sink.calls.at(-1)!.event.message, "probe 11");
});

test("spam filter: 25 events per source+object, then one per 5 minutes", async () => {
  const sink = fakeSink();
  const t = recorder(sink);
  for (let i = 0; i < 30; i++) t.r.emit(pod, "Normal", "Pulled", "same");
  await t.r.drained();
  assert.equal(sink.calls.length, 25);
  assert.equal(t.drops.filter((d) => d === "spam").length, 5);
  const other = Pod.fromPartial({ metadata: { ...pod.metadata!, name: "db", uid: "u2" } });
  t.r.emit(other, "Normal", "Pulled", "same");
  await t.r.drained();
  assert.equal(sink.calls.length, 26, "another object has its own bucket");
  t.advance(300_000);
  t.r.emit(pod, "Normal", "Pulled", "same");
  t.r.emit(pod, "Normal", "Pulled", "same");
  await t.done();
  assert.equal(sink.calls.length, 27, "one token back after 5 minutes");
  assert.equal(sink.calls.at(-1)!.event.count, 31, "the count includes the occurrences held back, as client-go's");
});

test("the queue is bounded and emit never waits; Unavailable is retried, refusals are dropped", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let first = true;
  const slow: EventSink = {
    create: async (e) => {
      if (first) {
        first = false;
        await gate; // the control plane hangs
      }
      return e;
    },
    update: async (e) => e,
  };
  const t = recorder(slow, { maxQueued: 3 });
  const started = Date.now();
  for (let i = 0; i < 10; i++) t.r.emit(pod, "Normal", `R${i}`, "m");
  assert.ok(Date.now() - started < 1000, "emit returned without waiting on the sink");
  await new Promise((r) => setImmediate(r));
  assert.ok(t.drops.filter((d) => d === "queue_full").length >= 6, `drops: ${t.drops.join(",")}`);
  release();
  await t.done();

  const flaky = fakeSink((call, n) => (n <= 2 ? new CodedError("Unavailable", "connection refused") : call.event.reason === "Bad" ? new CodedError("InvalidArgument", "bad") : undefined));
  const t2 = recorder(flaky);
  t2.r.emit(pod, "Normal", "Started", "Started container c");
  t2.r.emit(pod, "Normal", "Bad", "x");
  await t2.done();
  assert.deepEqual(flaky.calls.map((c) => c.event.reason), ["Started", "Started", "Started", "Bad"], "two retries, then sent; a refusal is not retried");
  assert.equal(flaky.stored.size, 1);
  assert.deepEqual(t2.drops, ["rejected"]);
});

test("an update of an event the server no longer has creates it again", async () => {
  const sink = fakeSink();
  const t = recorder(sink);
  t.r.emit(pod, "Warning", "BackOff", "m");
  await t.r.drained();
  sink.stored.clear(); // expired on the server
  t.r.emit(pod, "Warning", "BackOff", "m");
  await t.done();
  assert.deepEqual(sink.calls.map((c) => [c.op, c.event.count]), [["create", 1], ["update", 2], ["create", 2]]);
  assert.equal([...sink.stored.values()][0]!.count, 2);
});

test("node status events on condition changes, and Go-style durations", () => {
  const c = (type: string, status: string) => NodeCondition.fromPartial({ type, status });
  assert.deepEqual(nodeStatusReasons([], [c("Ready", "True"), c("MemoryPressure", "False"), c("NetworkUnavailable", "False")]), ["NodeReady", "NodeHasSufficientMemory"]);
  assert.deepEqual(nodeStatusReasons([c("Ready", "True"), c("DiskPressure", "False")], [c("Ready", "False"), c("DiskPressure", "False")]), ["NodeNotReady"]);
  assert.deepEqual([0, 512, 1234, 60_000, 123_500, 3_600_000].map(goDuration), ["0s", "512ms", "1.234s", "1m0s", "2m3.5s", "1h0m0s"]);
});
