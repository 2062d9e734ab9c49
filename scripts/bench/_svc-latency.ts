// The latency side of the services bench: a real single-node cluster (bridge
// mode, the agent's nftables Services on), backends serving HTTP (busybox
// httpd), a client pod whose network namespace polls a cluster IP
// (_svc-poller.ts), and the two changes timed from the control plane's store
// (in this process) to the client's first completed TCP connection.
// Clock: CLOCK_MONOTONIC (process.hrtime) here, in the store's own watchers
// (they run inside the write), and in the poller.
import { run } from "@plasmacloud/common/exec";
import { CreateServiceRequest, DeleteServiceRequest, WatchEvent_Type, type Pod } from "@plasmacloud/proto/k8shost";
import { podReady } from "../../stand-ins/src/controlplane/endpoints-slices";
import { BUSYBOX, podRunning, startCluster, startPod, waitFor, type Cluster } from "../../agent/test/helpers/cluster";
import { containersOf, execIn, purgeNode } from "../../agent/test/helpers/cri";
import { Poller, now, type Polled } from "./_svc-poll";

export const SVC_TABLE = "k8shost-bench";
const PORT = 80;

export interface Sample {
  /** ms from the control plane's write to the client's first completed connection. */
  ms: number;
  /** Endpoint samples: ms from the exec that touches the readiness file (adds the probe period). */
  fromTouchMs?: number;
  /** ms between the poller's attempts, achieved (1 asked for). */
  attemptMs: number;
  /** Attempts refused (an ICMP error came back) before the first connection. */
  refused: number;
}

/** A backend: busybox httpd on 8080; ready (httpGet /ready, every 1 s) while /www/ready exists. */
const backend = (name: string, app: string, ready: boolean) => ({
  metadata: { name, labels: { app } },
  spec: {
    terminationGracePeriodSeconds: 1n,
    containers: [{
      name: "httpd",
      image: BUSYBOX,
      command: ["sh", "-c", `mkdir -p /www && echo ${name} > /www/index.html${ready ? " && touch /www/ready" : ""} && exec httpd -f -p 8080 -h /www`],
      readinessProbe: { httpGet: { path: "/ready", port: "8080" }, periodSeconds: 1, failureThreshold: 1, successThreshold: 1, timeoutSeconds: 1 },
    }],
  },
});

/** Cluster IPs for the created Services: the static band (the allocator hands out the upper band), DNS's .10 skipped. */
function* staticIps(): Generator<string> {
  for (;;) for (let i = 32; i <= 250; i++) yield `10.96.0.${i}`;
}

type Waiter<E> = { match: (e: E) => boolean; resolve: (t: number) => void };

export class LatencyRig {
  private readonly podWaiters = new Set<Waiter<Pod>>();
  private readonly svcWaiters = new Set<Waiter<{ type: WatchEvent_Type; name: string }>>();
  private readonly unwatch: (() => void)[] = [];
  private readonly ips = staticIps();
  private poller: Poller | undefined;
  private epBackend = "";
  private epIp = "";
  private seq = 0;

  private constructor(readonly c: Cluster) {
    const fire = <E>(ws: Set<Waiter<E>>, e: E): void => {
      const t = now();
      for (const w of [...ws]) if (w.match(e)) (ws.delete(w), w.resolve(t));
    };
    this.unwatch.push(c.store.watch(c.store.rv, (ev) => fire(this.podWaiters, ev.pod)));
    this.unwatch.push(c.store.services.watch(c.store.rv, (ev) => fire(this.svcWaiters, { type: ev.type, name: ev.obj.metadata!.name })));
  }

  static async start(): Promise<LatencyRig> {
    const c = await startCluster({ bundled: true, extraConfig: `services: { mode: nftables, table: ${SVC_TABLE}, cleanupOnStop: true }` });
    const rig = new LatencyRig(c);
    try {
      await rig.setUp();
    } catch (err) {
      await rig.close();
      throw err;
    }
    return rig;
  }

  private async setUp(): Promise<void> {
    const c = this.c;
    await waitFor("node Ready", () => c.store.nodes.get(c.nodeName)?.status?.conditions.some((x) => x.type === "Ready" && x.status === "True"), 60_000);
    const [, ep, client] = await Promise.all([
      startPod(c, backend("svc-backend", "svc-backend", true)),
      startPod(c, backend("ep-backend", "ep-backend", false)),
      startPod(c, { metadata: { name: "client" }, spec: { terminationGracePeriodSeconds: 1n, containers: [{ name: "c", image: BUSYBOX, command: ["sleep", "3600"] }] } }),
    ]);
    await podRunning(c, "svc-backend", podReady, 30_000);
    const [ctr] = await containersOf(ep.metadata!.uid);
    if (!ctr) throw new Error("bench: ep-backend has no container");
    this.epBackend = ctr.id;
    this.poller = await Poller.start(client.metadata!.uid);
    // The endpoint samples' Service. With it the table exists throughout, so a cluster IP without rules is
    // refused (the ICMP error rate-limited) rather than routed off the node.
    this.epIp = (await this.createService("ep", "ep-backend")).clusterIp;
    const p = this.poller;
    const table = async (): Promise<boolean> => run("nft", ["list", "table", "ip", SVC_TABLE]).then(() => true, () => false);
    await waitFor("the agent's table with the ep Service (no ready endpoint)", async () => (await table()) && p.absent(this.epIp, PORT), 30_000, 100);
  }

  private async createService(name: string, app: string, clusterIp = ""): Promise<{ clusterIp: string }> {
    const u = this.c.user;
    const s = await u.call("CreateService", u.services.createService.bind(u.services), CreateServiceRequest.fromPartial({
      service: { metadata: { name }, spec: { clusterIp, selector: { app }, ports: [{ port: PORT, targetPort: "8080" }] } },
    }));
    return { clusterIp: s.spec!.clusterIp };
  }

  private async deleteService(name: string): Promise<void> {
    const u = this.c.user;
    await u.call("DeleteService", u.services.deleteService.bind(u.services), DeleteServiceRequest.fromPartial({ ref: { name } }));
  }

  private podEvent(match: (p: Pod) => boolean): Promise<number> {
    return new Promise((resolve) => this.podWaiters.add({ match, resolve }));
  }

  private sample(r: Polled, touched?: number): Sample {
    // The poller ran before the change and nothing answered until after it.
    if (!(r.started < r.changed && r.done > r.changed)) throw new Error(`bench: sample out of order: ${JSON.stringify(r)}`);
    return { ms: r.done - r.changed, fromTouchMs: touched === undefined ? undefined : r.done - touched, attemptMs: (r.done - r.started) / r.attempts, refused: r.refused };
  }

  /** Service created: CreateService (its backend already ready) -> first connection to its cluster IP. */
  async serviceSample(): Promise<Sample> {
    const p = this.poller!;
    const name = `s${this.seq++}`;
    const ip = this.ips.next().value as string;
    const r = await p.poll(ip, PORT, async () => {
      const stored = new Promise<number>((resolve) => this.svcWaiters.add({ match: (e) => e.type === WatchEvent_Type.ADDED && e.name === name, resolve }));
      await this.createService(name, "svc-backend", ip);
      return stored;
    });
    await this.deleteService(name);
    await waitFor(`the deleted Service's ${ip} gone`, () => p.absent(ip, PORT), 30_000, 20);
    return this.sample(r);
  }

  /** Endpoint ready: the ep Service's one backend turns Ready -> first connection; then back to unready. */
  async endpointSample(): Promise<Sample> {
    const p = this.poller!;
    // Each sample starts a fixed time after a probe (the last one saw it unready): without a random pause the
    // touch would meet the probe's period at the same phase every time, and the from-touch figure with it.
    await new Promise((r) => setTimeout(r, Math.random() * 1000));
    let touched = 0;
    const r = await p.poll(this.epIp, PORT, async () => {
      const ready = this.podEvent((x) => x.metadata!.name === "ep-backend" && podReady(x));
      touched = now();
      await execIn(this.epBackend, ["touch", "/www/ready"]);
      return ready;
    });
    const unready = this.podEvent((x) => x.metadata!.name === "ep-backend" && !podReady(x));
    await execIn(this.epBackend, ["rm", "-f", "/www/ready"]);
    await unready;
    await waitFor("the ep Service without endpoints again", () => p.absent(this.epIp, PORT), 30_000, 20);
    return this.sample(r, touched);
  }

  async close(): Promise<void> {
    for (const u of this.unwatch) u();
    await this.poller?.close();
    await this.c.close(); // pods through the agent; it removes its table on stop (cleanupOnStop)
    await purgeNode(this.c.nodeName);
  }
}
