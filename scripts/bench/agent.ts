// Agent bench, on the real node stack, in one run:
//  1. pod start, CreatePod -> every container running as seen through a watch,
//     for 1 pod and for 30 pods at once, against two floors measured in the
//     same repetitions (in a shuffled order): the same CRI calls issued
//     directly (_floor.ts) to the same containerd (novanet CNI) and to a stock
//     containerd (bridge + host-local, _stock.ts);
//  2. 110 pods at once (maxPods): p50/p99 and whether all reached Running;
//  3. where the time goes: the agent's per-phase debug line of each pod;
//  4. idle: the agent's CPU and RSS with 110 pods running, over windows of two
//     resync periods each, the agent as it ships: restarted over the running
//     pods at the defaults (info level, 60 s resyncs) and settled first;
//     beside it, in the same windows, the same probes from a bare Node process
//     (_probe-floor.ts), the reference for what probing alone costs here.
// Every figure is min / median / max over its repetitions, beside `node -e 0`.
// Counts: AGENT_BENCH_PODS (30), AGENT_BENCH_MAX_PODS (110), AGENT_BENCH_REPS
// (5: one burst's p99 is mostly its slowest pod), AGENT_BENCH_SINGLE_REPS (5), AGENT_BENCH_MAX_REPS (3), AGENT_BENCH_IDLE_RUNS (3),
// AGENT_BENCH_RESYNC_S (60: the idle agent's resyncs), AGENT_BENCH_SETTLE_S (15).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CONTAINERD_SOCK, TEST_SUBNET, BUSYBOX, startCluster, waitFor, type Cluster } from "../../agent/test/helpers/cluster";
import { purgeNode } from "../../agent/test/helpers/cri";
import { floorBurst, type FloorPod } from "./_floor";
import { PHASES, agentBurst, agentSli, criCalls, deletePods, idleWindow, phasesOf, type Burst, type IdleRun, type Phases } from "./_pods";
import { envInt, machineLine, median, mmm, pct, shuffled, table } from "./_stats";
import { startStockNode, type StockNode } from "./_stock";

const N = envInt("AGENT_BENCH_PODS", 30);
const MAX_PODS = envInt("AGENT_BENCH_MAX_PODS", 110);
const MAX_REPS = envInt("AGENT_BENCH_MAX_REPS", 3);
const REPS = envInt("AGENT_BENCH_REPS", 5);
const SINGLE_REPS = envInt("AGENT_BENCH_SINGLE_REPS", 5);
const IDLE_RUNS = envInt("AGENT_BENCH_IDLE_RUNS", 3);
const RESYNC_S = envInt("AGENT_BENCH_RESYNC_S", 60);
const SETTLE_S = envInt("AGENT_BENCH_SETTLE_S", 15, 0);

type Side = "agent" | "same" | "stock";
const SIDES: Side[] = ["agent", "same", "stock"];
const LABEL: Record<Side, string> = {
  agent: "agent + novanet (CreatePod -> watch)",
  same: "floor, same containerd (novanet)",
  stock: "floor, stock containerd (bridge)",
};

/** One repetition: each side starts `count` pods at once, in a shuffled order; the agent's pods are deleted after. */
async function repetition(c: Cluster, stock: StockNode, count: number, tag: string, seed: number): Promise<{ ms: Record<Side, number[]>; phases: Phases[]; floorPhases: FloorPod["phases"][]; calls: Map<string, number> }> {
  const ms = {} as Record<Side, number[]>;
  let phases: Phases[] = [];
  let floorPhases: FloorPod["phases"][] = [];
  let calls = new Map<string, number>();
  const steps: Record<Side, () => Promise<void>> = {
    agent: async () => {
      const before = await criCalls(metricsUrlOf(c));
      const b = await agentBurst(c, `${tag}-`, count, 120_000);
      const after = await criCalls(metricsUrlOf(c));
      calls = new Map([...after].map(([m, n]) => [m, (n - (before.get(m) ?? 0)) / count] as const).filter(([, x]) => x > 0));
      if (b.running !== count) throw new Error(`bench: only ${b.running} of ${count} pods reached Running`);
      ms.agent = b.times;
      await deletePods(c, b.names);
      phases = phasesOf(c, b.names); // after: a pod's line follows its last status by a moment
    },
    same: async () => {
      const pods = await floorBurst({ socket: CONTAINERD_SOCK, image: BUSYBOX, subnet: TEST_SUBNET }, count, `same-${tag}`);
      ms.same = pods.map((p) => p.ms);
      floorPhases = pods.map((p) => p.phases);
    },
    stock: async () => void (ms.stock = (await floorBurst({ socket: stock.socket, image: BUSYBOX, subnet: TEST_SUBNET }, count, `stock-${tag}`)).map((p) => p.ms)),
  };
  for (const s of shuffled(SIDES, seed)) await steps[s]();
  return { ms, phases, floorPhases, calls };
}

/** The agent's /metrics, from the newest start line in its output. */
function metricsUrlOf(c: Cluster): string {
  const all = [...c.agent.output.matchAll(/"healthz":"([^"]+)"/g)];
  return `http://${all[all.length - 1]![1]}/metrics`;
}

/** Restarts the agent without the bench's debug level, its resyncs at RESYNC_S; waits until it adopted every pod. */
async function restartAsShipped(c: Cluster): Promise<void> {
  const file = join(c.dir, "agent.yaml");
  const cfg = readFileSync(file, "utf8").split("\n").filter((l) => l !== "logLevel: debug");
  if (RESYNC_S !== 60) cfg.push(`syncFrequencySeconds: ${RESYNC_S}`, `podResyncSeconds: ${RESYNC_S}`);
  writeFileSync(file, cfg.join("\n"));
  await c.agent.kill("SIGTERM");
  const from = c.agent.output.length;
  c.agent.start();
  await waitFor("the restarted agent's start-up network GC", () => c.agent.output.slice(from).includes("network GC done"), 120_000);
}

const ratioRow = (label: string, xs: number[]): string[] => [label, mmm(xs, 2, "x")];

/** _probe-floor.ts over these pod IPs, once it has armed its timers. */
async function startProbeFloor(ips: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "_probe-floor.ts"), ...ips], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  await waitFor("probe floor ready", () => out.includes("ready") || child.exitCode !== null, 30_000);
  if (child.exitCode !== null) throw new Error(`probe floor exited with ${child.exitCode}`);
  await new Promise((r) => setTimeout(r, 10_000)); // one probe period: every pod probed once
  return child;
}

export async function run(): Promise<void> {
  console.log(`agent bench: 1 pod x${SINGLE_REPS}, ${N} pods at once x${REPS}, ${MAX_PODS} pods at once x${MAX_REPS}, idle ${IDLE_RUNS} x ${2 * RESYNC_S} s (resync ${RESYNC_S} s)`);
  execFileSync("npm", ["run", "build", "-w", "agent"], { stdio: "ignore" });
  const stock = await startStockNode();
  // The agent as it ships (the bundle), production heartbeat; debug level for its per-phase lines.
  const extra = [`maxPods: ${MAX_PODS}`, "logLevel: debug"].join("\n");
  let c: Cluster | undefined;
  let probeFloor: ChildProcess | undefined;
  try {
    c = await startCluster({ extraConfig: extra, bundled: true, heartbeatSeconds: 10 });
    const cluster = c;
    // The agent's start-up network GC must not race the floors' fresh attachments.
    await waitFor("the agent's start-up network GC", () => cluster.agent.output.includes("network GC done"), 60_000);
    await waitFor("node Ready", () => cluster.store.nodes.get(cluster.nodeName)?.status?.conditions.some((x) => x.type === "Ready" && x.status === "True"));
    // Warm-up: one pod on each side, so images and code caches are equal for all.
    await repetition(c, stock, 1, "warm", 0);

    const single: Record<Side, number[]> = { agent: [], same: [], stock: [] };
    const singlePhases: Phases[] = [];
    for (let i = 0; i < SINGLE_REPS; i++) {
      const r = await repetition(c, stock, 1, `one${i}`, i + 1);
      for (const s of SIDES) single[s].push(r.ms[s][0]!);
      singlePhases.push(...r.phases);
    }
    const p50: Record<Side, number[]> = { agent: [], same: [], stock: [] };
    const p99: Record<Side, number[]> = { agent: [], same: [], stock: [] };
    const burstPhases: Phases[][] = [];
    const burstFloorPhases: FloorPod["phases"][][] = [];
    const burstCalls: Map<string, number>[] = [];
    for (let i = 0; i < REPS; i++) {
      const r = await repetition(c, stock, N, `b${i}`, i + 11);
      burstCalls.push(r.calls);
      for (const s of SIDES) {
        p50[s].push(pct(r.ms[s], 50));
        p99[s].push(pct(r.ms[s], 99));
      }
      burstPhases.push(r.phases);
      burstFloorPhases.push(r.floorPhases);
    }
    const within = (a: number[], b: number[]): number[] => a.map((x, i) => x / b[i]!);

    console.log(`\npod start, 1 pod (ms; min / median / max over ${SINGLE_REPS} repetitions):`);
    console.log(table([["", "ms"], ...SIDES.map((s) => [LABEL[s], mmm(single[s])]),
      ratioRow("agent / same-CNI floor", within(single.agent, single.same)), ratioRow("agent / stock floor", within(single.agent, single.stock))]));
    console.log(`\npod start, ${N} pods at once (ms; each repetition's p50 and p99 over its pods; min / median / max over ${REPS} repetitions):`);
    console.log(table([["", "p50", "p99"], ...SIDES.map((s) => [LABEL[s], mmm(p50[s]), mmm(p99[s])]),
      ["agent / same-CNI floor (target p99 <= 1.15x)", mmm(within(p50.agent, p50.same), 2, "x"), mmm(within(p99.agent, p99.same), 2, "x")],
      ["agent / stock floor (target p99 <= 1.3x)", mmm(within(p50.agent, p50.stock), 2, "x"), mmm(within(p99.agent, p99.stock), 2, "x")]]));
    // The floor makes 4 per pod (RunPodSandbox, ImageStatus, CreateContainer, StartContainer); the rest is the agent's reading.
    const callMethods = [...new Set(burstCalls.flatMap((m) => [...m.keys()]))].sort();
    console.log(`  the agent's CRI calls per pod while starting ${N} (median over repetitions, relists included): ${callMethods.map((m) => `${m} ${median(burstCalls.map((x) => x.get(m) ?? 0)).toFixed(2)}`).join(", ")}`);

    // The last repetition's pods stay for the idle windows.
    const bigs: Burst[] = [];
    const bigPhases: Phases[][] = [];
    for (let i = 0; i < MAX_REPS; i++) {
      if (i > 0) await deletePods(c, bigs[i - 1]!.names);
      bigs.push(await agentBurst(c, `max${i}-`, MAX_PODS, 600_000, true)); // each with an httpGet readiness probe
      await new Promise((r) => setTimeout(r, 2000)); // the last pods' debug lines follow their statuses
      bigPhases.push(phasesOf(c, bigs[i]!.names));
    }
    const big = bigs[MAX_REPS - 1]!;
    console.log(`\npod start, ${MAX_PODS} pods at once (maxPods), each serving HTTP with an httpGet readiness probe, agent + novanet (ms; min / median / max over ${MAX_REPS} repetitions):`);
    console.log(table([["", "p50", "p99", "reached Running"],
      [LABEL.agent, mmm(bigs.map((b) => pct(b.times, 50))), mmm(bigs.map((b) => pct(b.times, 99))), bigs.map((b) => `${b.running}/${MAX_PODS}`).join(", ")]]));

    console.log(`\nwhere the time goes: the agent's "pod started: ms per phase" line, watch event -> status with all containers running accepted`);
    const col = (xs: Phases[][], f: (v: number[]) => number, p: (typeof PHASES)[number]): string => mmm(xs.filter((r) => r.length).map((r) => f(r.map((x) => x[p]))));
    // The same-CNI floor's calls, timed one by one in the same repetitions: what the runtime itself took.
    const floorCol = (f: (v: number[]) => number, p: (typeof PHASES)[number]): string => {
      if (p === "total") return mmm(burstFloorPhases.map((r) => f(r.map((x) => x.sandbox + x.pull + x.create + x.start))));
      return p in burstFloorPhases[0]![0]! ? mmm(burstFloorPhases.map((r) => f(r.map((x) => x[p as keyof FloorPod["phases"]])))) : "-";
    };
    console.log(table([
      ["phase (ms)", `1 pod (x${SINGLE_REPS})`, `${N} at once: median pod`, `${N} at once: p99 pod`, `floor, ${N}: median pod`, `floor, ${N}: p99 pod`, `${MAX_PODS} at once: median pod`, `${MAX_PODS}: p99 pod`],
      ...PHASES.map((p) => [p, mmm(singlePhases.map((x) => x[p]), 1), col(burstPhases, median, p), col(burstPhases, (v) => pct(v, 99), p),
        floorCol(median, p), floorCol((v) => pct(v, 99), p), col(bigPhases, median, p), col(bigPhases, (v) => pct(v, 99), p)]),
    ]));
    console.log("  (per column min / median / max over repetitions; phases: agent/src/observe/pod-start.ts; floor: the same-CNI floor's RunPodSandbox, ImageStatus,");
    console.log("  CreateContainer and StartContainer, each timed; a p99 column's rows do not add up)");

    const sli = await agentSli(metricsUrlOf(c));
    console.log(`  the agent's own k8shost_agent_pod_start_sli_duration_seconds: ${sli.count} pods, mean ${(sli.sum / Math.max(1, sli.count)).toFixed(2)} s`);

    // Idle is judged on the agent as it ships: the debug level (a line per pod sync) and any
    // override go; it restarts over the running pods, adopts them, and settles.
    await restartAsShipped(c);
    const metricsUrl = metricsUrlOf(c);
    await new Promise((r) => setTimeout(r, SETTLE_S * 1000)); // the start-up tail (status pushes, events) settles
    const pid = c.agent.proc!.pid!;
    const ips = (await Promise.all(big.names.map((n) => c!.getPod(n)))).map((p) => p?.status?.podIp ?? "").filter((ip) => ip !== "");
    probeFloor = await startProbeFloor(ips);
    const runs: IdleRun[] = [];
    for (let i = 0; i < IDLE_RUNS; i++) runs.push(await idleWindow(pid, metricsUrl, 2 * RESYNC_S * 1000, probeFloor.pid!));
    console.log(`\nagent idle with ${big.running} pods running, each probed (httpGet, 10 s), restarted as it ships (info level, resyncs ${RESYNC_S} s): ${IDLE_RUNS} windows of ${2 * RESYNC_S} s (two resync periods each), min / median / max`);
    console.log(table([
      ["CPU, % of one core (target <= 1.5)", mmm(runs.map((r) => r.cpuPct), 2)],
      [`reference: the same ${ips.length} probes alone, from a bare Node process (_probe-floor.ts), same windows`, mmm(runs.map((r) => r.refCpuPct), 2)],
      ["agent minus reference, percentage points of one core", mmm(runs.map((r) => r.cpuPct - r.refCpuPct), 2)],
      ["RSS, max sampled each second, MiB (target <= 100)", mmm(runs.map((r) => r.rssMaxMiB), 1)],
      ["RSS at window end, MiB", mmm(runs.map((r) => r.rssEndMiB), 1)],
    ]));
    // The resync's share: the quiet seconds' median is the probes and timers (the relist runs on runtime events); the rest of the CPU came in the window's
    // two resync bursts (and its heartbeats). Scaled to the default syncFrequency (60 s): computed, not measured.
    const quiet = runs.map((r) => median(r.perSecondPct));
    const perResync = runs.map((r, i) => ((r.cpuPct - quiet[i]!) * 2 * RESYNC_S) / 100 / 2);
    console.log(`  of which: the quiet seconds (probes and timers; relists only on runtime events, see the CRI calls) ${mmm(quiet, 2)} % of one core; each resync period's burst (${big.running} pod syncs, a pod list, ${RESYNC_S / 10} heartbeats) ${mmm(perResync.map((x) => x * 1000))} ms of CPU`);
    if (RESYNC_S !== 60) console.log(`  computed for the default 60 s resync (quiet + one burst per 60 s; heartbeats under-counted): ${mmm(runs.map((_, i) => quiet[i]! + (perResync[i]! / 60) * 100), 2)} % of one core`);
    const kinds = [...new Set(runs.flatMap((r) => [...r.byThreadPct.keys()]))].sort();
    console.log(`  by thread (% of one core): ${kinds.map((k) => `${k} ${mmm(runs.map((r) => r.byThreadPct.get(k) ?? 0), 2)}`).join("; ")}`);
    const methods = [...new Set(runs.flatMap((r) => [...r.criCallsPerSec.keys()]))].sort();
    console.log(`  CRI calls/s while idle (median): ${methods.map((m) => `${m} ${median(runs.map((r) => r.criCallsPerSec.get(m) ?? 0)).toFixed(2)}`).join(", ")}`);
    probeFloor.kill("SIGTERM"); // before its pods go
    await deletePods(c, big.names);
  } finally {
    probeFloor?.kill("SIGTERM");
    if (c) {
      await c.close();
      await purgeNode(c.nodeName);
    }
    await stock.close();
  }
  console.log(`\nafter: ${machineLine()}`);
}
