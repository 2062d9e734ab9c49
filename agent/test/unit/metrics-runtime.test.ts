// The runtime decorator (runtime/instrumented.ts): every asynchronous call of
// the PodRuntime seam counted and timed under the kubelet's operation_type,
// failures counted and passed on untouched, bookkeeping calls not counted, and
// the wrapped object still itself (its private state reached through `this`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { AgentMetrics } from "../../src/observe/metrics";
import { instrumentRuntime, operationType } from "../../src/runtime/instrumented";

/** A fake runtime: private state, a slow call, a failing one, bookkeeping. */
class FakeRuntime {
  #made = 0;
  #boom = new Error("CRI StartContainer: no such container");
  async runSandbox(name: string): Promise<string> {
    await new Promise((r) => setTimeout(r, 30));
    this.#made++;
    return `sandbox-of-${name}`;
  }
  async startContainer(_id: string): Promise<void> {
    throw this.#boom;
  }
  get boom(): Error {
    return this.#boom;
  }
  async execSync(): Promise<number> {
    return 0;
  }
  mutations(): number {
    return this.#made;
  }
  close(): void {}
}

async function series(m: AgentMetrics, name: string): Promise<Map<string, number>> {
  const text = await m.registry.getSingleMetricAsString(name);
  const out = new Map<string, number>();
  for (const [, key, v] of text.matchAll(/^(\S+) (\S+)$/gm)) out.set(key!, Number(v));
  return out;
}

test("a call is counted and timed under the kubelet's operation name; its result passes through", async () => {
  const m = new AgentMetrics();
  const rt = instrumentRuntime(new FakeRuntime(), m.kubelet);
  assert.equal(await rt.runSandbox("web"), "sandbox-of-web");
  assert.equal(rt.mutations(), 1, "the real object's private state, reached through the proxy");
  const total = await series(m, "k8shost_agent_runtime_operations_total");
  assert.equal(total.get('k8shost_agent_runtime_operations_total{operation_type="run_podsandbox"}'), 1);
  const dur = await series(m, "k8shost_agent_runtime_operations_duration_seconds");
  assert.equal(dur.get('k8shost_agent_runtime_operations_duration_seconds_count{operation_type="run_podsandbox"}'), 1);
  // The call waited 30 ms: the duration covers the promise, not just the synchronous part.
  assert.ok(dur.get('k8shost_agent_runtime_operations_duration_seconds_sum{operation_type="run_podsandbox"}')! >= 0.02);
  assert.equal(dur.get('k8shost_agent_runtime_operations_duration_seconds_bucket{le="0.005",operation_type="run_podsandbox"}'), 0);
  const errors = await series(m, "k8shost_agent_runtime_operations_errors_total");
  assert.equal(errors.size, 0, "no error series before any failure");
});

test("a failing call is counted as an error and rejects with the very same error", async () => {
  const m = new AgentMetrics();
  const inner = new FakeRuntime();
  const rt = instrumentRuntime(inner, m.kubelet);
  await assert.rejects(rt.startContainer("c1"), (err) => err === inner.boom);
  await assert.rejects(rt.startContainer("c2"));
  const errors = await series(m, "k8shost_agent_runtime_operations_errors_total");
  assert.equal(errors.get('k8shost_agent_runtime_operations_errors_total{operation_type="start_container"}'), 2);
  const dur = await series(m, "k8shost_agent_runtime_operations_duration_seconds");
  assert.equal(dur.get('k8shost_agent_runtime_operations_duration_seconds_count{operation_type="start_container"}'), 2, "failures are timed too");
});

test("bookkeeping (mutations, close) and getters are not runtime operations", async () => {
  const m = new AgentMetrics();
  const rt = instrumentRuntime(new FakeRuntime(), m.kubelet);
  rt.mutations();
  rt.close();
  assert.ok(rt.boom instanceof Error);
  await rt.execSync();
  const total = await series(m, "k8shost_agent_runtime_operations_total");
  assert.deepEqual([...total.keys()], ['k8shost_agent_runtime_operations_total{operation_type="exec_sync"}']);
});

test("operation names: the kubelet's where one seam call is one CRI call, else the method in snake_case", () => {
  assert.equal(operationType("ready"), "status");
  assert.equal(operationType("runSandbox"), "run_podsandbox");
  assert.equal(operationType("sandbox"), "podsandbox_status");
  assert.equal(operationType("allSandboxIds"), "list_podsandbox");
  assert.equal(operationType("imagePresent"), "image_status");
  assert.equal(operationType("imageUser"), "image_status");
  assert.equal(operationType("pullImage"), "pull_image");
  assert.equal(operationType("createContainer"), "create_container");
  assert.equal(operationType("reopenContainerLog"), "reopen_container_log");
  assert.equal(operationType("relist"), "relist");
  assert.equal(operationType("podState"), "pod_state");
});
