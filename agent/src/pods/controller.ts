// The pod controller: one serialized worker per pod, fed by the pod source
// (desired state), the runtime relist (actual state changed) and timers
// (backoff expiry). Sandboxes that belong to no pod of this node are removed,
// but only after a complete list from the control plane.
import type { Pod } from "@plasmacloud/proto/k8shost";
import { sleep } from "../controlplane/backoff";
import type { PodSink } from "../controlplane/podsource";
import { ProblemLog } from "../controlplane/problem";
import { errorMessage } from "../errors";
import type { Logger } from "../observe/logger";
import type { AgentMetrics } from "../observe/metrics";
import type { PodRuntime, PodRuntimeState } from "../runtime/types";
import { computeStatus } from "../status/compute";
import type { StatusManager } from "../status/manager";
import type { PodSyncer, SyncResult } from "./sync";
import { newWork, type PodWork } from "./work";

export interface ControllerOptions {
  relistMs: number;
  /** Safety net: every pod is synced at least this often. */
  resyncMs: number;
  runtimeName: string;
  hostIP: string;
  /** Called once, after the first relist that follows a complete pod list. */
  afterAdoption?: () => Promise<void>;
}

const stateKey = (s: PodRuntimeState): string =>
  JSON.stringify([s.sandboxes.map((x) => [x.id, x.ready]), s.containers.map((c) => [c.id, c.state, c.exitCode])]);

export class PodController implements PodSink {
  private readonly works = new Map<string, PodWork>();
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, { at: number; t: NodeJS.Timeout }>();
  private readonly seen = new Map<string, string>();
  private readonly phases = new Map<string, string>();
  private readonly problem: ProblemLog;
  private listed = false;
  private adopted = false;
  private readonly halt = new AbortController();
  lastRelistAt = 0;

  constructor(
    private readonly syncer: PodSyncer,
    private readonly runtime: PodRuntime,
    private readonly status: StatusManager,
    private readonly metrics: AgentMetrics,
    private readonly log: Logger,
    private readonly opts: ControllerOptions,
  ) {
    this.problem = new ProblemLog(log, "runtime relist");
  }

  private work(uid: string): PodWork {
    let w = this.works.get(uid);
    if (!w) this.works.set(uid, (w = newWork(uid, this.opts.runtimeName, this.opts.hostIP)));
    return w;
  }

  upsert(pod: Pod): void {
    const uid = pod.metadata!.uid;
    const fresh = !this.works.has(uid);
    const w = this.work(uid);
    if (fresh) {
      this.status.seed(pod);
      if (pod.status?.startTime) w.notes.startTime = pod.status.startTime;
      if (pod.status?.phase === "Running") w.startObserved = true; // adopted, not started by us
    }
    w.pod = pod;
    w.lastPod = pod;
    this.enqueue(uid);
  }

  remove(uid: string, last?: Pod): void {
    const w = this.works.get(uid);
    if (!w) return;
    w.pod = undefined;
    // A force-deleted pod's final object carries grace 0: stop it at the minimum.
    if (last) w.lastPod = last;
    this.enqueue(uid);
  }

  synced(): void {
    if (this.listed) return;
    this.listed = true;
    void this.relistOnce(); // adopt or remove what the runtime holds
  }

  enqueue(uid: string, delayMs = 0): void {
    if (this.halt.signal.aborted) return;
    if (delayMs > 0) {
      const at = Date.now() + delayMs;
      const cur = this.timers.get(uid);
      if (cur && cur.at <= at) return;
      if (cur) clearTimeout(cur.t);
      const t = setTimeout(() => {
        this.timers.delete(uid);
        this.enqueue(uid);
      }, delayMs);
      t.unref();
      this.timers.set(uid, { at, t });
      return;
    }
    if (this.running.has(uid)) {
      this.dirty.add(uid);
      return;
    }
    void this.runWorker(uid);
  }

  private async runWorker(uid: string): Promise<void> {
    this.running.add(uid);
    try {
      do {
        this.dirty.delete(uid);
        const w = this.works.get(uid);
        if (!w) break;
        try {
          this.log.debug({ pod: this.name(w) }, "syncing pod");
          this.afterSync(w, await this.syncer.sync(w));
        } catch (err) {
          this.metrics.syncErrors.inc({ reason: "error" });
          this.log.warn({ pod: this.name(w), err: errorMessage(err) }, "pod sync failed; retrying");
          this.enqueue(uid, 2000);
        }
      } while (this.dirty.has(uid) && !this.halt.signal.aborted);
    } finally {
      this.running.delete(uid);
    }
  }

  private name(w: PodWork): string {
    const m = (w.pod ?? w.lastPod)?.metadata;
    return m ? `${m.namespace}/${m.name}` : w.uid;
  }

  private afterSync(w: PodWork, res: SyncResult): void {
    if (res.forget) {
      this.works.delete(w.uid);
      this.status.forget(w.uid);
      this.phases.delete(w.uid);
      this.seen.delete(w.uid);
      return;
    }
    if (res.requeueAfterMs !== undefined) this.enqueue(w.uid, Math.max(100, res.requeueAfterMs));
    const pod = w.pod;
    if (!pod || pod.metadata?.deletionTimestamp) return;
    const st = computeStatus(pod, res.state, w.notes);
    this.phases.set(w.uid, st.phase);
    this.status.set(pod, st);
    if (!w.startObserved && st.phase === "Running" && st.containerStatuses.every((c) => c.state?.running)) {
      w.startObserved = true;
      this.metrics.podStartLatency.observe((Date.now() - w.firstSeen) / 1000);
    }
  }

  /** PLEG: relist runtime state and wake the pods whose state changed. */
  async runRelist(): Promise<void> {
    let lastResync = Date.now();
    while (!this.halt.signal.aborted) {
      await sleep(this.opts.relistMs, this.halt.signal);
      await this.relistOnce();
      if (Date.now() - lastResync >= this.opts.resyncMs) {
        lastResync = Date.now();
        for (const uid of this.works.keys()) this.enqueue(uid);
      }
    }
  }

  private async relistOnce(): Promise<void> {
    let all: Map<string, PodRuntimeState>;
    try {
      all = await this.runtime.relist();
      this.problem.ok();
      this.lastRelistAt = Date.now();
    } catch (err) {
      this.problem.failed(err);
      return;
    }
    for (const [uid, s] of all) {
      const key = stateKey(s);
      if (this.seen.get(uid) === key) continue;
      this.seen.set(uid, key);
      if (this.works.has(uid)) this.enqueue(uid);
      else if (this.listed) {
        this.log.info({ podUid: uid }, "removing runtime objects of a pod not bound to this node");
        this.work(uid);
        this.enqueue(uid);
      }
    }
    for (const uid of [...this.seen.keys()]) {
      if (!all.has(uid)) {
        this.seen.delete(uid);
        if (this.works.has(uid)) this.enqueue(uid);
      }
    }
    if (this.listed && !this.adopted) {
      this.adopted = true;
      void this.opts.afterAdoption?.();
    }
    const counts: Record<string, number> = { Pending: 0, Running: 0, Succeeded: 0, Failed: 0, Unknown: 0 };
    for (const p of this.phases.values()) counts[p] = (counts[p] ?? 0) + 1;
    for (const [phase, n] of Object.entries(counts)) this.metrics.podsByPhase.set({ phase }, n);
  }

  stop(): void {
    this.halt.abort();
    for (const { t } of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
