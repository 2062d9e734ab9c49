// Pushes PodStatus to the control plane only when it changed, and keeps
// retrying a push that failed (control plane down) until it lands. Pods push
// independently, one push in flight per pod (its statuses land in order): a
// pod whose containers just started does not wait behind other pods' pushes.
import { UpdatePodStatusRequest, type Pod, type PodStatus } from "@plasmacloud/proto/k8shost";
import { errorCode } from "@plasmacloud/common/errors";
import type { Logger } from "@plasmacloud/common/log";
import type { ControlPlane } from "../controlplane/client";
import { Backoff } from "../retry/backoff";
import { ProblemLog } from "../retry/problem";

interface Pending {
  pod: Pod;
  status: PodStatus;
  key: string;
}

/** Equality that ignores nothing the user sees but is stable across recomputes. */
const fingerprint = (s: PodStatus): string => JSON.stringify(s, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));

export class StatusManager {
  private readonly pushed = new Map<string, string>();
  private readonly pending = new Map<string, Pending>();
  private readonly inflight = new Set<string>();
  private readonly backoff = new Backoff(1000, 30_000);
  private readonly problem: ProblemLog;
  /** After a failed push no push starts before this (Date.now()); a timer then retries every pending one. */
  private pausedUntil = 0;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;
  private halted: (() => void) | undefined;

  constructor(
    private readonly cp: ControlPlane,
    private readonly log: Logger,
    /** Told of each status the control plane accepted (the pod start SLI ends there). */
    private readonly accepted?: { statusPushed(uid: string, status: PodStatus): void },
  ) {
    this.problem = new ProblemLog(log, "pod status update");
  }

  /** Queues the status when it differs from what was last pushed. */
  set(pod: Pod, status: PodStatus): void {
    const uid = pod.metadata!.uid;
    const key = fingerprint(status);
    if (this.pushed.get(uid) === key && !this.pending.has(uid)) return;
    if (this.pending.get(uid)?.key === key) return;
    this.pending.set(uid, { pod, status, key });
    this.start(uid);
  }

  /** The last status this agent pushed for the pod (so a restart need not repeat it). */
  seed(pod: Pod): void {
    if (pod.status && pod.metadata) this.pushed.set(pod.metadata.uid, fingerprint(pod.status));
  }

  forget(uid: string): void {
    this.pushed.delete(uid);
    this.pending.delete(uid);
  }

  /** Pushes run as statuses come; this resolves on stop(). */
  async run(): Promise<void> {
    if (!this.stopped) await new Promise<void>((r) => (this.halted = r));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.halted?.();
  }

  /** Pushes the pod's pending status unless one of its pushes is in flight or pushes are paused. */
  private start(uid: string): void {
    if (this.stopped || this.inflight.has(uid) || Date.now() < this.pausedUntil) return;
    const p = this.pending.get(uid);
    if (!p) return;
    this.inflight.add(uid);
    this.push(p)
      .then(
        () => {
          this.backoff.reset();
          this.problem.ok();
        },
        (err: unknown) => this.failed(err),
      )
      .finally(() => {
        this.inflight.delete(uid);
        this.start(uid); // a newer status came while this one was in flight
      });
  }

  private failed(err: unknown): void {
    if (Date.now() < this.pausedUntil) return; // another pod's failure already paused them
    const delay = this.backoff.next();
    this.problem.failed(err, delay);
    this.pausedUntil = Date.now() + delay;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      for (const uid of this.pending.keys()) this.start(uid);
    }, delay);
  }

  private async push(p: Pending): Promise<void> {
    const m = p.pod.metadata!;
    const req = UpdatePodStatusRequest.fromPartial({
      ref: { orgId: m.orgId, projectId: m.projectId, namespace: m.namespace, name: m.name },
      uid: m.uid,
      status: p.status,
    });
    try {
      await this.cp.call("UpdatePodStatus", this.cp.pods.updatePodStatus.bind(this.cp.pods), req);
    } catch (err) {
      // The pod is gone or was re-created: nothing to report any more.
      if (errorCode(err) === "NotFound" || errorCode(err) === "Conflict") {
        if (this.pending.get(m.uid)?.key === p.key) this.pending.delete(m.uid);
        return;
      }
      throw err;
    }
    this.pushed.set(m.uid, p.key);
    this.accepted?.statusPushed(m.uid, p.status);
    if (this.pending.get(m.uid)?.key === p.key) this.pending.delete(m.uid);
    this.log.debug({ pod: `${m.namespace}/${m.name}`, phase: p.status.phase }, "status pushed");
  }
}
