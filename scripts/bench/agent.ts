// Agent bench, on the real containerd, in one run:
//  1. pod start latency for 30 pods created at once: CreatePod -> every
//     container running, observed through a WatchPods stream as a user sees it;
//  2. the floor: the same CRI sequence (RunPodSandbox, ImageStatus,
//     CreateContainer, StartContainer) for 30 pods at once, issued directly;
//  3. the agent's RSS and idle CPU with 110 pods running.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { credentials } from "@grpc/grpc-js";
import { TenantKeys } from "@plasmacloud/proto/annotations";
import {
  CreateContainerRequest,
  ImageStatusRequest,
  ImageServiceClient,
  ListPodSandboxRequest,
  PodSandboxConfig,
  RemovePodSandboxRequest,
  RunPodSandboxRequest,
  RuntimeServiceClient,
  StartContainerRequest,
  StopPodSandboxRequest,
} from "@plasmacloud/proto/cri";
import { WatchPodsRequest, WatchEvent_Type, type WatchEvent } from "@plasmacloud/proto/k8shost";
import { BUSYBOX, CONTAINERD_SOCK, TEST_SUBNET, startCluster, waitFor, type Cluster } from "../../agent/test/helpers/cluster";
import { criCall as unary, purgeNode } from "../../agent/test/helpers/cri";

const N = 30;
const IDLE_PODS = 110;
const IDLE_WINDOW_MS = 60_000;

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
};
const ms = (x: number): string => `${x.toFixed(0)} ms`;


/** The floor: what a minimal script pays for the same runtime work (same network, same tenant). */
async function floor(): Promise<number[]> {
  const rt = new RuntimeServiceClient(`unix://${CONTAINERD_SOCK}`, credentials.createInsecure());
  const im = new ImageServiceClient(`unix://${CONTAINERD_SOCK}`, credentials.createInsecure());
  const run = `floor-${Date.now()}`;
  const one = async (i: number): Promise<number> => {
    const t0 = performance.now();
    const config = PodSandboxConfig.fromPartial({
      metadata: { name: `f${i}`, uid: `${run}-${i}`, namespace: "bench" },
      hostname: `f${i}`,
      labels: { "bench.plasmacloud.io/run": run },
      annotations: { [TenantKeys.orgId]: "org-a", [TenantKeys.projectId]: "proj-a", [TenantKeys.subnetId]: TEST_SUBNET },
      linux: { cgroupParent: `/k8shost-bench/pod${run}-${i}` },
    });
    const sb = await unary(rt, rt.runPodSandbox, RunPodSandboxRequest.fromPartial({ config }));
    await unary(im, im.imageStatus, ImageStatusRequest.fromPartial({ image: { image: BUSYBOX } }));
    const c = await unary(rt, rt.createContainer, CreateContainerRequest.fromPartial({ podSandboxId: sb.podSandboxId, config: { metadata: { name: "c" }, image: { image: BUSYBOX }, command: ["sleep", "3600"] }, sandboxConfig: config }));
    await unary(rt, rt.startContainer, StartContainerRequest.fromPartial({ containerId: c.containerId }));
    return performance.now() - t0;
  };
  try {
    return await Promise.all(Array.from({ length: N }, (_, i) => one(i)));
  } finally {
    const list = await unary(rt, rt.listPodSandbox, ListPodSandboxRequest.fromPartial({ filter: { labelSelector: { "bench.plasmacloud.io/run": run } } }));
    for (const s of list.items) {
      await unary(rt, rt.stopPodSandbox, StopPodSandboxRequest.fromPartial({ podSandboxId: s.id }));
      await unary(rt, rt.removePodSandbox, RemovePodSandboxRequest.fromPartial({ podSandboxId: s.id }));
    }
    rt.close();
  }
}

/** CreatePod for `count` pods at once; resolves with each pod's time to all-running. */
async function startPods(c: Cluster, prefix: string, count: number): Promise<number[]> {
  const md = c.user.metadata();
  const stream = c.user.pods.watchPods(WatchPodsRequest.fromPartial({ namespace: "default" }), md);
  const created = new Map<string, number>();
  const done = new Map<string, number>();
  const all = new Promise<void>((resolve) => {
    stream.on("data", (ev: WatchEvent) => {
      const name = ev.pod?.metadata?.name ?? "";
      if (ev.type !== WatchEvent_Type.MODIFIED || !name.startsWith(prefix) || done.has(name)) return;
      const st = ev.pod?.status;
      if (st?.phase === "Running" && st.containerStatuses.length > 0 && st.containerStatuses.every((s) => s.state?.running)) {
        done.set(name, performance.now());
        if (done.size === count) resolve();
      }
    });
  });
  stream.on("error", () => {});
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const name = `${prefix}${i}`;
      created.set(name, performance.now());
      await c.createPod({ metadata: { name }, spec: { terminationGracePeriodSeconds: 1n, containers: [{ name: "c", image: BUSYBOX, command: ["sleep", "3600"] }] } });
    }),
  );
  await all;
  stream.cancel();
  return [...done.entries()].map(([n, t]) => t - (created.get(n) as number));
}

function procStat(pid: number): { rssBytes: number; cpuTicks: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rss = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) * 1024;
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return { rssBytes: rss, cpuTicks: Number(fields[11]) + Number(fields[12]) };
}

async function deleteAll(c: Cluster, names: string[]): Promise<void> {
  await Promise.all(names.map((n) => c.deletePod(n, 0).catch(() => undefined)));
}

export async function run(): Promise<void> {
  execFileSync("npm", ["run", "build", "-w", "agent"], { stdio: "ignore" });
  // The cluster first: it serves the node's NovaNET endpoint the floor's sandboxes need too.
  // The agent's production defaults (heartbeat 10 s), as it ships (the bundle).
  const c = await startCluster({ extraConfig: "maxPods: 110", bundled: true, heartbeatSeconds: 10 });
  try {
    // The agent's start-up network GC must not race the floor's fresh attachments.
    await waitFor("the agent's start-up network GC", () => c.agent.output.includes("network GC done"), 60_000);
    const floorTimes = await floor();
    await waitFor("node Ready", () => c.store.nodes.get(c.nodeName)?.status?.conditions.some((x) => x.type === "Ready" && x.status === "True"));
    // Warm-up: one pod, so image and code caches are equal for both sides.
    await startPods(c, "warm", 1);
    await deleteAll(c, ["warm0"]);
    const agentTimes = await startPods(c, "lat", N);
    const fp50 = pct(floorTimes, 50), fp99 = pct(floorTimes, 99), ap50 = pct(agentTimes, 50), ap99 = pct(agentTimes, 99);
    console.log(`pod start, ${N} pods at once (CreatePod -> all containers running, via watch):`);
    console.log(`  agent  p50 ${ms(ap50)}  p99 ${ms(ap99)}`);
    console.log(`  floor  p50 ${ms(fp50)}  p99 ${ms(fp99)}   (same CRI calls issued directly)`);
    console.log(`  ratio  p50 ${(ap50 / fp50).toFixed(2)}x  p99 ${(ap99 / fp99).toFixed(2)}x   (target p99 <= 1.3x)`);

    await startPods(c, "idle", IDLE_PODS - N);
    const pid = c.agent.proc!.pid!;
    await new Promise((r) => setTimeout(r, 20_000)); // the start-up tail (status pushes, their watch events) settles
    const hz = 100; // USER_HZ on Linux
    const metricsUrl = `http://${/"healthz":"([^"]+)"/.exec(c.agent.output)?.[1]}/metrics`;
    const calls = async (): Promise<Map<string, number>> => {
      const text = await (await fetch(metricsUrl)).text();
      return new Map([...text.matchAll(/^k8shost_agent_cri_call_duration_seconds_count\{method="(\w+)"\} (\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
    };
    const callsBefore = await calls();
    const a = procStat(pid);
    const t0 = performance.now();
    // One full resync period (60 s): a shorter window over- or under-counts the resync burst.
    await new Promise((r) => setTimeout(r, IDLE_WINDOW_MS));
    const b = procStat(pid);
    const callsAfter = await calls();
    const secs = (performance.now() - t0) / 1000;
    const cpu = ((b.cpuTicks - a.cpuTicks) / hz / secs) * 100;
    console.log(`agent with ${IDLE_PODS} pods running, idle ${IDLE_WINDOW_MS / 1000} s:`);
    console.log(`  RSS ${(b.rssBytes / 2 ** 20).toFixed(1)} MB  (target <= 100 MB: ${(b.rssBytes / 2 ** 20 / 100).toFixed(2)}x of target)`);
    console.log(`  CPU ${cpu.toFixed(2)} % of one core  (target <= 2 %: ${(cpu / 2).toFixed(2)}x of target)`);
    const perSec = [...callsAfter].map(([m, n]) => [m, (n - (callsBefore.get(m) ?? 0)) / secs] as const).filter(([, r]) => r > 0);
    console.log(`  CRI calls/s while idle: ${perSec.map(([m, r]) => `${m} ${r.toFixed(1)}`).join(", ")}`);
    const names = [...Array.from({ length: N }, (_, i) => `lat${i}`), ...Array.from({ length: IDLE_PODS - N }, (_, i) => `idle${i}`)];
    await deleteAll(c, names);
  } finally {
    await c.close();
    await purgeNode(c.nodeName);
  }
}
