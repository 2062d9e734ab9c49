// Services bench (issue #15), on the real node stack, in one run:
//  1. Service programming latency on a bridge-mode node with the agent's
//     nftables Services (_svc-latency.ts): from a Service created, and from an
//     endpoint turning ready while its Service exists, to the first TCP
//     connection to the cluster IP that completes from a client pod's network
//     namespace, polled with a new connect every millisecond (_svc-poller.ts);
//     p50/p99 over SVC_BENCH_SAMPLES samples per repetition;
//  2. pod-to-pod TCP throughput through OVS (novanet `ovs` mode, userspace
//     datapath) and through the Linux bridge (novanet `bridge` mode), busybox
//     dd | nc, with the tools' own ceiling over loopback (_svc-throughput.ts).
// Each repetition runs the five measurements in a shuffled order; every figure
// is min / median / max over SVC_BENCH_REPS repetitions.
// Settings: SVC_BENCH_SAMPLES (50), SVC_BENCH_REPS (3), SVC_BENCH_MIB (256).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { envInt, machineLine, median, mmm, pct, shuffled, table } from "./_stats";
import { LatencyRig, type Sample } from "./_svc-latency";
import { ThroughputRig, type Path } from "./_svc-throughput";

const SAMPLES = envInt("SVC_BENCH_SAMPLES", 50);
const REPS = envInt("SVC_BENCH_REPS", 3);
const MIB = envInt("SVC_BENCH_MIB", 256);

type Step = "service" | "endpoint" | Path;
const STEPS: Step[] = ["service", "endpoint", "ovs", "bridge", "loopback"];

function bridgeNf(): string {
  try {
    return readFileSync("/proc/sys/net/bridge/bridge-nf-call-iptables", "utf8").trim();
  } catch {
    return "absent (no br_netfilter)";
  }
}

export async function run(): Promise<void> {
  console.log(`services bench: ${REPS} repetitions, each ${SAMPLES} Service-created and ${SAMPLES} endpoint-ready samples, ${MIB} MiB per throughput path (order shuffled)`);
  execFileSync("npm", ["run", "build", "-w", "agent"], { stdio: "ignore" }); // the agent as it ships (the bundle)
  let lat: LatencyRig | undefined;
  let tput: ThroughputRig | undefined;
  const svc: Sample[][] = [];
  const ep: Sample[][] = [];
  const mibs: Record<Path, number[]> = { ovs: [], bridge: [], loopback: [] };
  try {
    lat = await LatencyRig.start();
    tput = await ThroughputRig.start();
    const [l, t] = [lat, tput];
    // Warm-up, not counted: code paths, ARP and the bridges' MAC tables.
    await l.serviceSample();
    await l.endpointSample();
    for (const p of ["ovs", "bridge", "loopback"] as const) await t.transfer(p, Math.min(MIB, 16));

    for (let i = 0; i < REPS; i++) {
      const steps: Record<Step, () => Promise<void>> = {
        service: async () => void svc.push(await times(SAMPLES, () => l.serviceSample())),
        endpoint: async () => void ep.push(await times(SAMPLES, () => l.endpointSample())),
        ovs: async () => void mibs.ovs.push(await t.transfer("ovs", MIB)),
        bridge: async () => void mibs.bridge.push(await t.transfer("bridge", MIB)),
        loopback: async () => void mibs.loopback.push(await t.transfer("loopback", MIB)),
      };
      for (const s of shuffled(STEPS, i + 1)) await steps[s]();
    }
  } finally {
    // Both, whatever failed: the second close runs even if the first throws.
    try {
      await tput?.close();
    } finally {
      await lat?.close();
    }
  }

  const p = (reps: Sample[][], q: number, f: (s: Sample) => number = (s) => s.ms): string => mmm(reps.map((r) => pct(r.map(f), q)), 1);
  console.log(`\nService programming latency (ms): the control plane's write -> the client pod's first completed TCP connect to cluster IP:80`);
  console.log(`(each repetition's p50 and p99 over its ${SAMPLES} samples, nearest rank; min / median / max over ${REPS} repetitions)`);
  console.log(table([
    ["", "p50", "p99"],
    ["Service created (CreateService stored; its backend already ready)", p(svc, 50), p(svc, 99)],
    ["endpoint ready (the backend pod's Ready=True stored; Service exists)", p(ep, 50), p(ep, 99)],
    ["  the same from the exec that touches its readiness file (+ httpGet probe, 1 s period)", p(ep, 50, (s) => s.fromTouchMs!), p(ep, 99, (s) => s.fromTouchMs!)],
  ]));
  const all = [...svc, ...ep].flat();
  console.log(`  measured from the client pod's network namespace (its address and routes; entered from the host with nsenter, _svc-poller.ts): a new`);
  console.log(`  non-blocking connect every ${median(all.map((s) => s.attemptMs)).toFixed(2)} ms (median achieved), started before the change; clock: CLOCK_MONOTONIC in the poller and in`);
  console.log("  the control plane's store watcher (same process as the bench). Includes: the watch to the agent (Services and EndpointSlices), its 20 ms");
  console.log("  coalescing, rendering, `nft -f -`, one connect through the DNAT (client and backends on one bridge), up to one poll interval.");
  console.log(`  Before the rules, attempts are refused by ICMP, at most once a second after a burst of 6 (net.ipv4.icmp_ratelimit): ${mmm(all.map((s) => s.refused))}`);
  console.log("  refusals per sample. A client that waits for each refusal before retrying (busybox `nc` in a loop) sees about 1 s, not these figures.");

  const ratio = mibs.ovs.map((x, i) => x / mibs.bridge[i]!);
  console.log(`\npod-to-pod TCP throughput (MiB/s): ${MIB} MiB, busybox \`dd if=/dev/zero bs=64k | nc IP PORT\` into \`nc -l -p PORT\` (to /dev/null),`);
  console.log(`timed from outside (sender start to exit), bytes checked on the receiver's interface; min / median / max over ${REPS} repetitions.`);
  console.log("Pods here are network namespaces attached by the novanet executable as containerd runs it (ADD/DEL), two per mode, one NovaNET stand-in.");
  console.log(table([
    ["", "MiB/s"],
    ["novanet ovs mode: OVS userspace datapath (netdev), pods' TX checksumming off (novanet)", mmm(mibs.ovs, 1)],
    [`novanet bridge mode: Linux bridge (bridge-nf-call-iptables ${bridgeNf()})`, mmm(mibs.bridge, 1)],
    ["OVS / bridge (within each repetition)", mmm(ratio, 3, "x")],
    ["loopback in one pod's netns (the tools' own ceiling on this machine)", mmm(mibs.loopback, 1)],
  ]));
  console.log(`\nafter: ${machineLine()}`);
}

async function times(n: number, f: () => Promise<Sample>): Promise<Sample[]> {
  const out: Sample[] = [];
  for (let i = 0; i < n; i++) out.push(await f());
  return out;
}
