// The pod start SLI (observe/pod-start.ts) with a fake clock: from first seen
// to the control plane accepting a status with every container running, image
// pulls excluded as the kubelet excludes them (first pull started to last pull
// finished), observed once per pod; and the debug line with the time per phase.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "@plasmacloud/common/log";
import { Pod, PodStatus } from "@plasmacloud/proto/k8shost";
import type { PodEvents } from "../../src/events/types";
import { AgentMetrics } from "../../src/observe/metrics";
import { PodStartTracker } from "../../src/observe/pod-start";

function fixture() {
  let t = 1000;
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ component: "test", level: "debug", sink: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
  const m = new AgentMetrics();
  const tracker = new PodStartTracker(m.kubelet, log, () => t);
  const forwarded: string[] = [];
  const recorder: PodEvents = { emit: (_p, _t, reason) => forwarded.push(reason) };
  const images = tracker.pullEvents(recorder);
  return { m, tracker, images, lines, forwarded, advance: (ms: number) => (t += ms) };
}

const pod = (name: string, extra: { startTime?: Date; hostNetwork?: boolean } = {}): Pod =>
  Pod.fromPartial({
    metadata: { name, namespace: "default", uid: `uid-${name}` },
    spec: { hostNetwork: extra.hostNetwork ?? false, containers: [{ name: "a" }, { name: "b" }] },
    status: { startTime: extra.startTime },
  });
const running = PodStatus.fromPartial({ phase: "Running", containerStatuses: [{ name: "a", state: { running: { startedAt: new Date() } } }, { name: "b", state: { running: { startedAt: new Date() } } }] });
const halfway = PodStatus.fromPartial({ phase: "Running", containerStatuses: [{ name: "a", state: { running: { startedAt: new Date() } } }, { name: "b", state: { waiting: { reason: "ContainerCreating" } } }] });

async function observations(m: AgentMetrics, name: string): Promise<{ count: number; sum: number; byLabel: Map<string, number> }> {
  const text = await m.registry.getSingleMetricAsString(name);
  const rows = [...text.matchAll(/^(\w+?)(?:\{([^}]*)\})? (\S+)$/gm)].map(([, metric, labels, v]) => ({ metric: metric!, labels: labels ?? "", value: Number(v) }));
  const counts = rows.filter((r) => r.metric === `${name}_count`);
  return {
    count: counts.reduce((a, r) => a + r.value, 0),
    sum: rows.filter((r) => r.metric === `${name}_sum`).reduce((a, r) => a + r.value, 0),
    byLabel: new Map(counts.map((r) => [/first_with_network="([^"]*)"/.exec(r.labels)?.[1] ?? "", r.value])),
  };
}

test("first seen to all containers running as accepted, pulls excluded, observed once; phases add up to the total", async () => {
  const f = fixture();
  const p = pod("web");
  const uid = p.metadata!.uid;
  f.tracker.seen(p);
  f.advance(40);
  f.tracker.lap(uid, "queue");
  f.advance(100);
  f.tracker.lap(uid, "sandbox");
  // Container a: its image is pulled (3 s); container b: its image is already present.
  f.images.emit(p, "Normal", "Pulling", 'Pulling image "a"');
  f.advance(3000);
  f.images.emit(p, "Normal", "Pulled", 'Successfully pulled image "a" in 3s');
  f.tracker.lap(uid, "pull");
  f.advance(50);
  f.tracker.lap(uid, "create");
  f.advance(5);
  f.images.emit(p, "Normal", "Pulled", 'Container image "b" already present on machine');
  f.tracker.lap(uid, "pull");
  f.advance(60);
  f.tracker.lap(uid, "start");
  assert.deepEqual(f.forwarded, ["Pulling", "Pulled", "Pulled"], "every event still reaches the recorder");

  f.advance(10);
  f.tracker.statusPushed(uid, halfway); // not every container runs yet
  assert.equal((await observations(f.m, "k8shost_agent_pod_start_sli_duration_seconds")).count, 0);
  f.advance(25);
  f.tracker.statusPushed(uid, running);
  f.advance(500);
  f.tracker.statusPushed(uid, running); // a later push of the same: not a second start

  const sli = await observations(f.m, "k8shost_agent_pod_start_sli_duration_seconds");
  const total = await observations(f.m, "k8shost_agent_pod_start_total_duration_seconds");
  assert.equal(sli.count, 1);
  assert.equal(total.count, 1);
  const totalMs = 40 + 100 + 3000 + 50 + 5 + 60 + 10 + 25;
  assert.ok(Math.abs(total.sum - totalMs / 1000) < 1e-9, `total ${total.sum}`);
  assert.ok(Math.abs(sli.sum - (totalMs - 3000) / 1000) < 1e-9, `sli ${sli.sum}`);

  const lines = f.lines.filter((l) => l.msg === "pod started: ms per phase");
  assert.equal(lines.length, 1);
  const line = lines[0]!;
  assert.equal(line.pod, "default/web");
  assert.equal(line.pull, 3005);
  assert.equal(line.push, 35);
  assert.equal(line.total, totalMs);
  assert.equal(line.pulling, 3000);
  const phases = ["queue", "read", "volumes", "sandbox", "pull", "create", "start", "status", "push"];
  assert.equal(phases.reduce((a, k) => a + (line[k] as number), 0), totalMs, "the phases account for the whole start");
});

test("a failed pull and its retry: the excluded span runs from the first pull started to the one that succeeded", async () => {
  const f = fixture();
  const p = pod("retry");
  f.tracker.seen(p);
  f.advance(10);
  f.images.emit(p, "Normal", "Pulling", "Pulling image");
  f.advance(200);
  f.images.emit(p, "Warning", "Failed", "Failed to pull image");
  f.images.emit(p, "Warning", "Failed", "Error: ErrImagePull");
  f.advance(10_000); // back-off
  f.images.emit(p, "Normal", "Pulling", "Pulling image");
  f.advance(300);
  f.images.emit(p, "Normal", "Pulled", "Successfully pulled image");
  f.advance(90);
  f.tracker.statusPushed(p.metadata!.uid, running);
  const sli = await observations(f.m, "k8shost_agent_pod_start_sli_duration_seconds");
  assert.equal(sli.count, 1);
  assert.ok(Math.abs(sli.sum - 0.1) < 1e-9, `sli ${sli.sum}: 10 ms before the first pull + 90 ms after the last`);
});

test("pods not started by this agent run, terminal pods and forgotten pods are never observed", async () => {
  const f = fixture();
  const adopted = pod("adopted", { startTime: new Date() });
  f.tracker.seen(adopted); // already started before an agent restart
  f.tracker.statusPushed(adopted.metadata!.uid, running);
  const done = pod("done");
  f.tracker.seen(done);
  f.tracker.statusPushed(done.metadata!.uid, PodStatus.fromPartial({ phase: "Succeeded" }));
  f.tracker.statusPushed(done.metadata!.uid, running);
  const gone = pod("gone");
  f.tracker.seen(gone);
  f.tracker.forget(gone.metadata!.uid);
  f.tracker.statusPushed(gone.metadata!.uid, running);
  assert.equal((await observations(f.m, "k8shost_agent_pod_start_sli_duration_seconds")).count, 0);
});

test("first_with_network: the first pod with a network, as the kubelet labels it; host-network pods do not count", async () => {
  const f = fixture();
  for (const p of [pod("host", { hostNetwork: true }), pod("one"), pod("two")]) {
    f.tracker.seen(p);
    f.tracker.statusPushed(p.metadata!.uid, running);
  }
  const sli = await observations(f.m, "k8shost_agent_pod_start_sli_duration_seconds");
  assert.equal(sli.byLabel.get("true"), 1);
  assert.equal(sli.byLabel.get(""), 2);
});
