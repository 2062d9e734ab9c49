// The throughput side of the services bench: two pods attached by the real
// novanet executable in `ovs` mode (a bridge of the bench's own on the node
// stack's userspace datapath, forwarding by MAC learning, as
// cni-plugin/test/integration/ovs-traffic.test.ts makes them) and two in
// `bridge` mode (one Linux bridge per subnet), against one NovaNET stand-in.
// A pod here is a network namespace, attached as containerd would attach it;
// bytes move with the host's busybox (the test image's binary): receiver
// `nc -l -p PORT` to /dev/null, sender `dd if=/dev/zero bs=64k | nc IP PORT`,
// timed from outside, and checked against the receiver's interface counters.
import { spawn, type ChildProcess } from "node:child_process";
import { run } from "@plasmacloud/common/exec";
import { ensureBuilt } from "../../cni-plugin/test/helpers/build";
import { createNetns, deleteAllNetns, deleteNetns } from "../../cni-plugin/test/helpers/netns";
import { startFixture, type Fixture } from "../../cni-plugin/test/helpers/novanet";
import { OVSDB, addTestBridge, delTestBridge, ensureOvs } from "../../cni-plugin/test/helpers/ovs";
import { describeRun, verb } from "../../cni-plugin/test/helpers/plugin";
import { bridgeName, hostVethName } from "../../cni-plugin/src/plumbing/names";
import { waitFor } from "../../agent/test/helpers/cluster";

export type Path = "ovs" | "bridge" | "loopback";
const ORG = { orgId: "org-svcbench", projectId: "proj-svcbench" };
const SUBNETS = {
  ovs: { id: `sn-svcbench-ovs-${process.pid}`, ...ORG, cidr: "10.213.40.0/24", gatewayIp: "10.213.40.1" },
  bridge: { id: `sn-svcbench-br-${process.pid}`, ...ORG, cidr: "10.213.41.0/24", gatewayIp: "10.213.41.1" },
};
const OVS_BRIDGE = `nvsb${process.pid % 100000}`;
const SEND = 'busybox dd if=/dev/zero bs=65536 count="$1" 2>/dev/null | busybox nc -w 5 "$2" "$3"';

interface NetPod { ns: string; containerId: string; ip: string; mode: "ovs" | "bridge" }

export class ThroughputRig {
  private readonly pods: NetPod[] = [];
  private readonly receivers = new Set<ChildProcess>();
  private port = 5301;
  private bridgeMade = false;

  private constructor(private readonly fx: Fixture) {}

  static async start(): Promise<ThroughputRig> {
    ensureBuilt();
    ensureOvs();
    const rig = new ThroughputRig(await startFixture([SUBNETS.ovs, SUBNETS.bridge]));
    try {
      await addTestBridge(OVS_BRIDGE);
      rig.bridgeMade = true;
      for (const mode of ["ovs", "bridge"] as const) for (const i of [0, 1]) await rig.attach(mode, i);
      for (const mode of ["ovs", "bridge"] as const) {
        const [a, b] = rig.pair(mode);
        await run("ip", ["netns", "exec", a.ns, "busybox", "ping", "-c", "1", "-W", "2", b.ip], { timeoutMs: 10_000 });
      }
    } catch (err) {
      await rig.close();
      throw err;
    }
    return rig;
  }

  private conf(mode: "ovs" | "bridge"): Record<string, unknown> {
    return this.fx.conf({ mode, subnet_id: SUBNETS[mode].id, ...(mode === "ovs" ? { ovsdb: OVSDB, bridge: OVS_BRIDGE } : {}) });
  }

  private async attach(mode: "ovs" | "bridge", i: number): Promise<void> {
    const ns = await createNetns(`sb${mode[0]}${i}`);
    const containerId = `svcbench-${mode}-${i}-${process.pid}`;
    const pod: NetPod = { ns: ns.name, containerId, ip: "", mode };
    this.pods.push(pod); // before ADD: a half-made attachment is DEL'd too
    const r = await verb("ADD", this.conf(mode), containerId, ns.path);
    if (r.code !== 0) throw new Error(`bench: novanet ADD (${mode}) failed: ${describeRun(r)}`);
    pod.ip = this.fx.novanet.ports().find((p) => p.deviceId === containerId)?.ipAddress ?? "";
    if (!pod.ip) throw new Error(`bench: NovaNET has no port for ${containerId}`);
  }

  private pair(mode: "ovs" | "bridge"): [NetPod, NetPod] {
    const [a, b] = this.pods.filter((p) => p.mode === mode);
    return [a!, b!];
  }

  /** MiB/s for `mib` MiB from one pod to the other over `path` (loopback: within the bridge pair's first pod). */
  async transfer(path: Path, mib: number): Promise<number> {
    const [a, b] = this.pair(path === "ovs" ? "ovs" : "bridge");
    const to = path === "loopback" ? a : b;
    const [ip, dev] = path === "loopback" ? ["127.0.0.1", "lo"] : [b.ip, "eth0"];
    const port = String(this.port++);
    const before = await rxBytes(to.ns, dev);
    // stdin a pipe left open: busybox nc half-closes its connection at the end of its stdin (/dev/null at once).
    const recv = spawn("ip", ["netns", "exec", to.ns, "busybox", "nc", "-l", "-p", port], { stdio: ["pipe", "ignore", "pipe"] });
    this.receivers.add(recv);
    let recvErr = "";
    recv.stderr!.on("data", (d: Buffer) => (recvErr += d.toString()));
    const exited = new Promise<number | null>((resolve) => recv.once("exit", (code) => (this.receivers.delete(recv), resolve(code))));
    try {
      await waitFor(`the receiver listening on ${port}`, async () => (await run("ip", ["netns", "exec", to.ns, "busybox", "netstat", "-ltn"])).stdout.includes(`:${port} `), 10_000, 10);
      const t0 = performance.now();
      await run("ip", ["netns", "exec", a.ns, "busybox", "sh", "-c", SEND, "svc-bench-send", String(mib * 16), ip, port], { timeoutMs: 600_000 });
      const ms = performance.now() - t0;
      const code = await Promise.race([exited, new Promise<"late">((r) => setTimeout(() => r("late"), 10_000).unref())]);
      if (code !== 0) throw new Error(`bench: the receiver (${path}) ended with ${code}: ${recvErr}`);
      const got = (await rxBytes(to.ns, dev)) - before;
      if (got < mib * 2 ** 20) throw new Error(`bench: ${path}: ${got} bytes reached the receiver's ${dev}, expected >= ${mib} MiB`);
      return mib / (ms / 1000);
    } finally {
      if (this.receivers.has(recv)) recv.kill("SIGKILL");
    }
  }

  /** Everything made, whatever got made: receivers, attachments (novanet DEL), netns, veths, the bridges, the stand-in. */
  async close(): Promise<void> {
    for (const r of this.receivers) r.kill("SIGKILL");
    for (const p of this.pods) {
      const d = await verb("DEL", this.conf(p.mode), p.containerId, `/var/run/netns/${p.ns}`).catch((e: Error) => ({ code: -1, stdout: "", stderr: e.message }));
      if (d.code !== 0) console.error(`bench: novanet DEL ${p.containerId}: ${describeRun(d)}`);
      await deleteNetns(p.ns);
      await run("ip", ["link", "del", hostVethName(p.containerId, "eth0")]).catch(() => undefined); // gone with DEL normally
    }
    await deleteAllNetns(); // one made before its attachment was recorded
    if (this.bridgeMade) await delTestBridge(OVS_BRIDGE);
    await run("ip", ["link", "del", bridgeName("nvbr", SUBNETS.bridge.id)]).catch(() => undefined);
    const left = this.fx.novanet.ports().length;
    await this.fx.close();
    if (left) throw new Error(`bench: ${left} NovaNET ports left behind`);
  }
}

async function rxBytes(ns: string, dev: string): Promise<number> {
  const out = (await run("ip", ["-n", ns, "-s", "-j", "link", "show", "dev", dev])).stdout;
  return Number((JSON.parse(out) as { stats64: { rx: { bytes: number } } }[])[0]!.stats64.rx.bytes);
}
