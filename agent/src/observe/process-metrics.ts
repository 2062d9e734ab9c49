// The process collector every kubelet exports (Prometheus' client_golang
// process and Go runtime collectors), for what an operator compares between
// nodes: CPU seconds, resident and virtual memory, open fds, start time, and
// the V8 heap in place of go_memstats. Read at scrape time only: nothing runs
// between scrapes (prom-client's default collectors also watch every GC).
import { readdirSync, readFileSync } from "node:fs";
import { getHeapStatistics } from "node:v8";
import { Counter, Gauge, type Registry } from "prom-client";

const startSeconds = Math.round(Date.now() / 1000 - process.uptime());

/** Open file descriptors, or -1 where /proc is not readable. */
function openFds(): number {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return -1;
  }
}

/** Virtual memory size in bytes from /proc/self/stat (field 23), or 0. */
function virtualBytes(): number {
  try {
    return Number(readFileSync("/proc/self/stat", "latin1").replace(/^.*\) /, "").split(" ")[20] ?? 0);
  } catch {
    return 0;
  }
}

export function registerProcessMetrics(registers: Registry[]): void {
  new Counter({
    name: "process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds.", registers,
    collect() {
      const u = process.cpuUsage();
      this.reset();
      this.inc((u.user + u.system) / 1e6);
    },
  });
  new Gauge({ name: "process_resident_memory_bytes", help: "Resident memory size in bytes.", registers, collect() { this.set(process.memoryUsage.rss()); } });
  new Gauge({ name: "process_virtual_memory_bytes", help: "Virtual memory size in bytes.", registers, collect() { this.set(virtualBytes()); } });
  new Gauge({ name: "process_open_fds", help: "Number of open file descriptors.", registers, collect() { this.set(openFds()); } });
  new Gauge({ name: "process_start_time_seconds", help: "Start time of the process since unix epoch in seconds.", registers, collect() { this.set(startSeconds); } });
  new Gauge({
    name: "nodejs_heap_bytes", help: "V8 heap: used and total (the kubelet's go_memstats_heap_inuse/sys_bytes).", labelNames: ["kind"], registers,
    collect() {
      const h = getHeapStatistics();
      this.set({ kind: "used" }, h.used_heap_size);
      this.set({ kind: "total" }, h.total_heap_size);
      this.set({ kind: "external" }, h.external_memory);
    },
  });
}
