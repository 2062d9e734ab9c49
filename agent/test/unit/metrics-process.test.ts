// The process collector's figures, as a scrape reads them: what operators
// compare between a kubelet node and this one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AgentMetrics } from "../../src/observe/metrics";

const value = (text: string, name: string, labels = ""): number => {
  const m = new RegExp(`^${name}${labels.replace(/[{}]/g, "\\$&")} (\\S+)$`, "m").exec(text);
  assert.ok(m, `${name}${labels} missing from the scrape`);
  return Number(m[1]);
};

test("a scrape carries the process's CPU, memory, fds, start time and heap, read at scrape time", async () => {
  const m = new AgentMetrics();
  const first = await m.registry.metrics();
  const rss = value(first, "process_resident_memory_bytes");
  assert.ok(Math.abs(rss - process.memoryUsage.rss()) < 64 * 2 ** 20, `rss ${rss}`);
  assert.ok(value(first, "process_virtual_memory_bytes") >= rss);
  assert.ok(value(first, "process_open_fds") > 2);
  assert.ok(Math.abs(value(first, "process_start_time_seconds") - (Date.now() / 1000 - process.uptime())) < 2);
  assert.ok(value(first, "nodejs_heap_bytes", '{kind="used"}') > 0);
  const cpu0 = value(first, "process_cpu_seconds_total");
  const until = Date.now() + 50;
  while (Date.now() < until); // burn a little CPU
  const cpu1 = value(await m.registry.metrics(), "process_cpu_seconds_total");
  assert.ok(cpu1 > cpu0, `cpu ${cpu0} -> ${cpu1}: counted afresh at each scrape`);
});
