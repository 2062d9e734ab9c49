// The pod worker and relist metrics with a fake clock: pod worker duration from
// the work being queued, labelled as the kubelet labels it; relist duration and
// interval; running pods (a ready sandbox) and containers by state.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AgentMetrics } from "../../src/observe/metrics";
import { PodWorkerTimer } from "../../src/observe/pod-workers";
import { RelistObserver } from "../../src/observe/relist";
import type { ContainerInfo, PodRuntimeState, SandboxInfo } from "../../src/runtime/types";

async function values(m: AgentMetrics, name: string): Promise<Map<string, number>> {
  const text = await m.registry.getSingleMetricAsString(name);
  return new Map([...text.matchAll(/^(\S+) (\S+)$/gm)].map(([, k, v]) => [k!, Number(v)]));
}

test("pod worker duration: from the dispatch, by operation (create, update, sync, kill, terminated)", async () => {
  let t = 0;
  const m = new AgentMetrics();
  const w = new PodWorkerTimer(m.kubelet.podWorkerDuration, () => t);
  w.dispatched("a", "create");
  t += 100; // queued behind another worker
  w.dispatched("a", "update"); // coalesces: still the create, still timed from its dispatch
  const first = w.begin("a");
  t += 50;
  w.end(first, false, false);
  const resync = w.begin("a"); // a relist or resync wake-up: timed from here
  t += 7;
  w.end(resync, false, false);
  w.dispatched("a", "update");
  t += 3;
  w.end(w.begin("a"), false, false);
  w.end(w.begin("a"), true, false); // deletion in progress
  w.end(w.begin("a"), true, true); // the last sync: the worker goes
  const v = await values(m, "k8shost_agent_pod_worker_duration_seconds");
  const count = (op: string): number | undefined => v.get(`k8shost_agent_pod_worker_duration_seconds_count{operation_type="${op}"}`);
  const sum = (op: string): number | undefined => v.get(`k8shost_agent_pod_worker_duration_seconds_sum{operation_type="${op}"}`);
  assert.deepEqual(["create", "update", "sync", "kill", "terminated"].map(count), [1, 1, 1, 1, 1]);
  assert.equal(sum("create"), 0.15);
  assert.equal(sum("sync"), 0.007);
  assert.equal(sum("update"), 0.003);
});

const sandbox = (uid: string, ready: boolean): SandboxInfo => ({ id: `s-${uid}`, podUid: uid, pod: { uid, name: uid, namespace: "d", orgId: "", projectId: "" }, attempt: 0, ready, createdAt: 0, ip: "", netnsPath: "" });
const container = (uid: string, state: ContainerInfo["state"]): ContainerInfo => ({ id: `c-${uid}-${state}`, sandboxId: `s-${uid}`, podUid: uid, name: "c", attempt: 0, state, createdAt: 0, startedAt: 0, finishedAt: 0, exitCode: 0, reason: "", message: "", image: "", imageRef: "" });

test("relist: duration, interval between starts, running pods and containers by state", async () => {
  let t = 0;
  const m = new AgentMetrics();
  const r = new RelistObserver(m.kubelet, () => t);
  let done = r.started();
  t += 20;
  done();
  t += 980;
  done = r.started();
  t += 30;
  const all = new Map<string, PodRuntimeState>([
    ["p1", { sandboxes: [sandbox("p1", true)], containers: [container("p1", "running"), container("p1", "exited")] }],
    ["p2", { sandboxes: [sandbox("p2", false)], containers: [container("p2", "exited")] }],
    ["p3", { sandboxes: [sandbox("p3", true)], containers: [container("p3", "created")] }],
  ]);
  r.listed(all);
  done();
  const dur = await values(m, "k8shost_agent_pleg_relist_duration_seconds");
  assert.equal(dur.get("k8shost_agent_pleg_relist_duration_seconds_count"), 2);
  assert.equal(dur.get("k8shost_agent_pleg_relist_duration_seconds_sum"), 0.05);
  const interval = await values(m, "k8shost_agent_pleg_relist_interval_seconds");
  assert.equal(interval.get("k8shost_agent_pleg_relist_interval_seconds_count"), 1, "no interval before the second relist");
  assert.equal(interval.get("k8shost_agent_pleg_relist_interval_seconds_sum"), 1);
  assert.equal((await values(m, "k8shost_agent_running_pods")).get("k8shost_agent_running_pods"), 2);
  const byState = await values(m, "k8shost_agent_running_containers");
  assert.deepEqual(["created", "running", "exited", "unknown"].map((s) => byState.get(`k8shost_agent_running_containers{container_state="${s}"}`)), [1, 1, 2, 0]);
  // Everything gone: the gauges follow.
  r.listed(new Map());
  assert.equal((await values(m, "k8shost_agent_running_pods")).get("k8shost_agent_running_pods"), 0);
  assert.equal((await values(m, "k8shost_agent_running_containers")).get('k8shost_agent_running_containers{container_state="exited"}'), 0);
});
