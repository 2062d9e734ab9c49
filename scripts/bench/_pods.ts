// The agent's side of the agent bench: pods created through the control plane
// and seen Running through a watch, as a user sees them; the agent's own
// per-phase debug lines; its CPU and RSS from /proc while idle.
import { readFileSync, readdirSync } from "node:fs";
import { WatchEvent_Type, WatchPodsRequest, type WatchEvent } from "@plasmacloud/proto/k8shost";
import { BUSYBOX, waitFor, type Cluster } from "../../agent/test/helpers/cluster";
import { sandboxesOfNode } from "../../agent/test/helpers/cri";

export interface Burst {
  /** ms from CreatePod to a watch event showing every container running, per pod that got there. */
  times: number[];
  names: string[];
  running: number;
}

/**
 * A probed pod serves HTTP and carries an httpGet readiness probe (the kubelet's
 * default period, 10 s), so the idle figures include what probes cost.
 */
export const probedContainer = {
  name: "c",
  image: BUSYBOX,
  command: ["sh", "-c", "mkdir -p /w && echo ok > /w/index.html && exec httpd -f -p 8080 -h /w"],
  readinessProbe: { httpGet: { path: "/", port: "8080" } },
};

/** CreatePod for `count` pods at once; each pod's time to all-running, until all run or the deadline. */
export async function agentBurst(c: Cluster, prefix: string, count: number, deadlineMs = 300_000, probed = false): Promise<Burst> {
  const md = c.user.metadata();
  const stream = c.user.pods.watchPods(WatchPodsRequest.fromPartial({ namespace: "default" }), md);
  const created = new Map<string, number>();
  const done = new Map<string, number>();
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => (resolveAll = r));
  stream.on("data", (ev: WatchEvent) => {
    const name = ev.pod?.metadata?.name ?? "";
    if (ev.type !== WatchEvent_Type.MODIFIED || !name.startsWith(prefix) || done.has(name)) return;
    const st = ev.pod?.status;
    if (st?.phase === "Running" && st.containerStatuses.length > 0 && st.containerStatuses.every((s) => s.state?.running)) {
      done.set(name, performance.now());
      if (done.size === count) resolveAll();
    }
  });
  stream.on("error", () => undefined);
  const names = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  await Promise.all(names.map(async (name) => {
    created.set(name, performance.now());
    await c.createPod({ metadata: { name }, spec: { terminationGracePeriodSeconds: 1n, containers: [probed ? probedContainer : { name: "c", image: BUSYBOX, command: ["sleep", "3600"] }] } });
  }));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([all, new Promise((r) => (timer = setTimeout(r, deadlineMs)))]);
  clearTimeout(timer);
  stream.cancel();
  return { times: [...done.entries()].map(([n, t]) => t - (created.get(n) as number)), names, running: done.size };
}

/** Deletes the pods and waits until the agent removed their sandboxes (the next burst starts on an empty node). */
export async function deletePods(c: Cluster, names: string[]): Promise<void> {
  await Promise.all(names.map((n) => c.deletePod(n, 0).catch(() => undefined)));
  await waitFor("the agent to remove the bench's sandboxes", async () => (await sandboxesOfNode(c.nodeName)).length === 0, 180_000, 500);
}

export const PHASES = ["queue", "read", "volumes", "sandbox", "pull", "create", "start", "status", "push", "total"] as const;
export type Phases = Record<(typeof PHASES)[number], number>;

/** The agent's "pod started: ms per phase" debug lines (agent/src/observe/pod-start.ts) for these pods. */
export function phasesOf(c: Cluster, names: string[]): Phases[] {
  const want = new Set(names.map((n) => `default/${n}`));
  const out: Phases[] = [];
  for (const line of c.agent.output.split("\n")) {
    if (!line.includes('"pod started: ms per phase"')) continue;
    const l = JSON.parse(line) as Record<string, unknown>;
    if (want.has(String(l.pod))) out.push(Object.fromEntries(PHASES.map((p) => [p, Number(l[p])])) as Phases);
  }
  return out;
}

/** One process's resident memory and CPU time (user + system) from /proc. */
export function procStat(pid: number): { rssBytes: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rss = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) * 1024;
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return { rssBytes: rss, cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100 }; // USER_HZ
}

/** CPU time of all the process's threads in ns (schedstat: finer than stat's 10 ms ticks, for 1 s samples). */
function threadsCpuNs(pid: number): number {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread ended
    }
  }
  return ns;
}

/** CPU time (schedstat, ns) per kind of thread: the JS main thread, V8's helpers (GC, compiler), libuv's pool (fs), the rest. */
function threadKindsNs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${t}/comm`, "utf8").trim();
      const ns = Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]);
      const kind = t === String(pid) ? "main (JS)" : comm.startsWith("V8") ? "V8 helpers" : comm.startsWith("libuv") ? "libuv pool" : "other";
      out.set(kind, (out.get(kind) ?? 0) + ns);
    } catch {
      // the thread ended
    }
  }
  return out;
}

export interface IdleRun {
  cpuPct: number;
  /** The window's CPU by kind of thread, % of one core. */
  byThreadPct: Map<string, number>;
  /** CPU % of each second of the window (the resync shows as a burst among quiet seconds). */
  perSecondPct: number[];
  rssMaxMiB: number;
  rssEndMiB: number;
  criCallsPerSec: Map<string, number>;
  /** The reference process's CPU over the same window (_probe-floor.ts), % of one core. */
  refCpuPct: number;
}

/** The agent's CRI calls so far, by method, from its /metrics. */
export async function criCalls(metricsUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  return new Map([...text.matchAll(/^k8shost_agent_cri_call_duration_seconds_count\{method="(\w+)"\} (\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
}

/** The agent's CPU (% of one core) and RSS (sampled every second) over the window; CRI calls from its /metrics. */
export async function idleWindow(pid: number, metricsUrl: string, windowMs: number, refPid: number): Promise<IdleRun> {
  const calls = (): Promise<Map<string, number>> => criCalls(metricsUrl);
  const before = await calls();
  const a = procStat(pid);
  const ref0 = procStat(refPid);
  const kinds0 = threadKindsNs(pid);
  const t0 = performance.now();
  let rssMax = a.rssBytes;
  const perSecondPct: number[] = [];
  let last = { t: t0, ns: threadsCpuNs(pid) };
  while (performance.now() - t0 < windowMs) {
    await new Promise((r) => setTimeout(r, Math.min(1000, windowMs - (performance.now() - t0))));
    rssMax = Math.max(rssMax, procStat(pid).rssBytes);
    const now = { t: performance.now(), ns: threadsCpuNs(pid) };
    perSecondPct.push(((now.ns - last.ns) / 1e6 / (now.t - last.t)) * 100);
    last = now;
  }
  const b = procStat(pid);
  const ref1 = procStat(refPid);
  const kinds1 = threadKindsNs(pid);
  const secs = (performance.now() - t0) / 1000;
  const byThreadPct = new Map([...kinds1].map(([k, ns]) => [k, ((ns - (kinds0.get(k) ?? 0)) / 1e9 / secs) * 100] as const));
  const after = await calls();
  const perSec = new Map([...after].map(([m, n]) => [m, (n - (before.get(m) ?? 0)) / secs] as const).filter(([, r]) => r > 0));
  return { cpuPct: ((b.cpuSeconds - a.cpuSeconds) / secs) * 100, byThreadPct, perSecondPct, rssMaxMiB: rssMax / 2 ** 20, rssEndMiB: b.rssBytes / 2 ** 20, criCallsPerSec: perSec, refCpuPct: ((ref1.cpuSeconds - ref0.cpuSeconds) / secs) * 100 };
}

/** The agent's own pod start SLI from its /metrics: observations and their mean (s). */
export async function agentSli(metricsUrl: string): Promise<{ count: number; sum: number }> {
  const text = await (await fetch(metricsUrl)).text();
  const total = (suffix: string): number => [...text.matchAll(new RegExp(`^k8shost_agent_pod_start_sli_duration_seconds_${suffix}(?:\\{[^}]*\\})? (\\S+)$`, "gm"))].reduce((a, m) => a + Number(m[1]), 0);
  return { count: total("count"), sum: total("sum") };
}
