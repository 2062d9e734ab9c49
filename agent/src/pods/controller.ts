// The pod controller: one serialized worker per pod (queue.ts), fed by the
// pod source (desired state), the relist (pleg.ts: actual state changed) and
// timers (backoff expiry, resync). Sandboxes that belong to no pod of this
// node are removed, but only after a complete list from the control plane.
import { errorMessage } from "@plasmacloud/common/errors";
import type { Logger } from "@plasmacloud/common/log";
import { Pod } from "@plasmacloud/proto/k8shost";
import type { PodSink } from "../controlplane/podsource";
import type { AgentMetrics } from "../observe/metrics";
import type { PodStartTracker } from "../observe/pod-start";
import { PodWorkerTimer } from "../observe/pod-workers";
import { RelistObserver } from "../observe/relist";
import { sleep } from "../retry/backoff";
import type { PodRuntime, PodRuntimeState } from "../runtime/types";
import { computeStatus } from "../status/compute";
import type { StatusManager } from "../status/manager";
import { Pleg, type PodLifecycleEvent } from "./pleg";
import { PodQueue } from "./queue";
import type { PodSyncer, SyncResult } from "./sync";
import { newWork, type PodWork } from "./work";

export interface ControllerOptions {
  relistMs: number;
  /** With the runtime's change events: the relist's period when nothing changes; 0 = events unused (pleg.ts). */
  eventedRelistMs: number;
  /** Safety net: every pod is synced at least this often. */
  resyncMs: number;
  runtimeName: string;
  hostIP: string;
  /** Called once, after the first relist that follows a complete pod list. */
  afterAdoption?: () => Promise<void>;
  /** The pod start SLI and its phases (observe/pod-start.ts). */
  starts?: PodStartTracker;
}

const SYNC_RETRY_MS = 2000;

export class PodController implements PodSink {
  private readonly works = new Map<string, PodWork>();
  private readonly phases = new Map<string, string>();
  private readonly queue: PodQueue;
  private readonly pleg: Pleg;
  private readonly workerTimes: PodWorkerTimer;
  private listed = false;
  private adopted = false;
  private readonly halt = new AbortController();

  constructor(
    private readonly syncer: PodSyncer,
    runtime: PodRuntime,
    private readonly status: StatusManager,
    private readonly metrics: AgentMetrics,
    private readonly log: Logger,
    private readonly opts: ControllerOptions,
  ) {
    this.queue = new PodQueue((uid) => this.syncPod(uid));
    const timing = { periodMs: opts.relistMs, eventedPeriodMs: opts.eventedRelistMs };
    this.pleg = new Pleg(runtime, log, timing, (events) => this.relisted(events), new RelistObserver(metrics.kubelet));
    this.workerTimes = new PodWorkerTimer(metrics.kubelet.podWorkerDuration);
  }

  /** When the agent last knew the runtime's state (0: never): the last relist, or now while its events flow. */
  get runtimeSeenAt(): number {
    return this.pleg.healthyAt;
  }

  /** The relist's view of every pod if no older than `maxAgeMs`, else undefined (see Pleg.snapshot). */
  runtimeSnapshot(maxAgeMs: number): Map<string, PodRuntimeState> | undefined {
    return this.pleg.snapshot(maxAgeMs);
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
    this.workerTimes.dispatched(uid, fresh ? "create" : "update");
    if (fresh) {
      this.opts.starts?.seen(pod);
      this.status.seed(pod);
      if (pod.status?.startTime) w.notes.startTime = pod.status.startTime;
      if (pod.status?.phase === "Running") w.startObserved = true; // adopted, not started by us
      // Adopted after a restart: counts of containers whose sandbox is gone live on in the last status.
      for (const s of [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]) {
        if (s.containerId) w.notes.attempts.set(s.name, s.restartCount);
        if (s.lastState?.terminated) w.notes.goneTerminated.set(s.name, { attempt: Math.max(0, s.restartCount - 1), state: s.lastState });
      }
    }
    const prev = w.pod;
    w.pod = pod;
    w.lastPod = pod;
    // The echo of our own status push changes nothing the sync reads (the
    // kubelet's pod config takes it as a status reconcile, not a sync), but
    // for one thing: a pod that became finished gives its sandbox back.
    if (!fresh && prev && finished(prev) === finished(pod) && sameDesired(prev, pod)) return;
    this.queue.enqueue(uid);
  }

  remove(uid: string, last?: Pod): void {
    const w = this.works.get(uid);
    if (!w) return;
    w.pod = undefined;
    // A force-deleted pod's final object carries grace 0: stop it at the minimum.
    if (last) w.lastPod = last;
    this.queue.enqueue(uid);
  }

  /** Something outside the runtime changed for a pod it holds (a probe result): sync it now. */
  wake(uid: string): void {
    if (this.works.has(uid)) this.queue.enqueue(uid);
  }

  synced(): void {
    if (this.listed) return;
    this.listed = true;
    // Adopt or remove everything the runtime holds, also pods an earlier relist reported before the list was in.
    this.pleg.reportAll();
    void this.pleg.relist();
  }

  /** The relist and the resync, until stop(). */
  async run(): Promise<void> {
    const signal = this.halt.signal;
    const resync = async (): Promise<void> => {
      while (!signal.aborted) {
        await sleep(this.opts.resyncMs, signal);
        for (const uid of this.works.keys()) this.queue.enqueue(uid);
      }
    };
    await Promise.all([this.pleg.run(signal), resync()]);
  }

  private async syncPod(uid: string): Promise<void> {
    const w = this.works.get(uid);
    if (!w) return;
    const timing = this.workerTimes.begin(uid);
    try {
      this.log.debug({ pod: this.name(w) }, "syncing pod");
      const input = this.pleg.current(uid, w.lastSyncEnd, w.lastRead);
      w.lastRead = undefined; // the sync's own result sets it again
      this.afterSync(w, await this.syncer.sync(w, input));
    } catch (err) {
      this.metrics.syncErrors.inc({ reason: "error" });
      this.log.warn({ pod: this.name(w), err: errorMessage(err) }, "pod sync failed; retrying");
      this.queue.enqueue(uid, SYNC_RETRY_MS);
    } finally {
      w.lastSyncEnd = performance.now();
      this.workerTimes.end(timing, !w.pod || !!w.pod.metadata?.deletionTimestamp, !this.works.has(uid));
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
      this.pleg.forget(w.uid);
      this.workerTimes.forget(w.uid);
      this.opts.starts?.forget(w.uid);
      return;
    }
    if (res.stateAt !== undefined) w.lastRead = { state: res.state, at: res.stateAt };
    if (res.requeueAfterMs !== undefined) this.queue.enqueue(w.uid, Math.max(100, res.requeueAfterMs));
    const pod = w.pod;
    if (!pod || pod.metadata?.deletionTimestamp) return;
    const st = computeStatus(pod, res.state, w.notes);
    this.phases.set(w.uid, st.phase);
    this.status.set(pod, st);
    this.opts.starts?.lap(w.uid, "status");
    if (!w.startObserved && st.phase === "Running" && st.containerStatuses.every((c) => c.state?.running)) {
      w.startObserved = true;
      this.metrics.podStartLatency.observe((Date.now() - w.firstSeen) / 1000);
    }
  }

  /** Wakes the pods whose runtime state changed; runtime objects of no pod here get a worker that removes them. */
  private relisted(events: PodLifecycleEvent[]): void {
    for (const { uid, gone } of events) {
      if (this.works.has(uid)) this.queue.enqueue(uid);
      else if (!gone && this.listed) {
        this.log.info({ podUid: uid }, "removing runtime objects of a pod not bound to this node");
        this.work(uid);
        this.queue.enqueue(uid);
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
    this.queue.stop();
  }
}

const finished = (p: Pod): boolean => p.status?.phase === "Succeeded" || p.status?.phase === "Failed";

/** Spec and metadata the same, resource version aside: what the pod asks of the node did not change. */
function sameDesired(a: Pod, b: Pod): boolean {
  const desired = (p: Pod): Uint8Array => Pod.encode(Pod.fromPartial({ metadata: { ...p.metadata, resourceVersion: "" }, spec: p.spec })).finish();
  return Buffer.from(desired(a)).equals(desired(b));
}
