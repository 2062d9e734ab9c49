// A pod's start, from the agent first seeing it to the control plane accepting
// a status with all its containers running: the kubelet's pod start SLI
// (pod_startup_latency_tracker.go: image pulls excluded as the span from the
// first pull started to the last one finished, observed once per pod), and
// where the time went, phase by phase, in one debug line per pod.
// The pod loops mark phases with one-line calls (lap); the time since the
// previous mark is the named phase's, added up over syncs and containers.
import type { Logger } from "@plasmacloud/common/log";
import type { Pod, PodStatus } from "@plasmacloud/proto/k8shost";
import type { PodEvents } from "../events/types";
import type { KubeletMetrics } from "./kubelet-metrics";

/**
 * queue: watch event -> a sync starts (waiting for a worker, or between syncs);
 * read: the sync's runtime read; volumes; sandbox: RunPodSandbox (with the
 * runtime's CNI ADD), its status, the network seam; pull: the image check (a
 * pull when needed); create: CreateContainer and its config; start:
 * StartContainer; status: the sync's last runtime read and the PodStatus;
 * push: status queued -> the control plane accepted it.
 */
export const PHASES = ["queue", "read", "volumes", "sandbox", "pull", "create", "start", "status", "push"] as const;
export type Phase = (typeof PHASES)[number];

/** What the pod loops see of the tracker: one call per mark. */
export interface PhaseMarks {
  lap(uid: string, phase: Phase): void;
}

interface Start {
  name: string;
  hostNetwork: boolean;
  firstSeen: number;
  last: number;
  ms: Record<Phase, number>;
  pulling: boolean;
  firstStartedPulling: number | undefined;
  lastFinishedPulling: number | undefined;
}

const allRunning = (s: PodStatus): boolean => s.containerStatuses.length > 0 && s.containerStatuses.every((c) => c.state?.running !== undefined);
const round = (ms: number): number => Math.round(ms * 10) / 10;

export class PodStartTracker implements PhaseMarks {
  private readonly pods = new Map<string, Start>();
  private firstNetworkPodSeen = false;

  constructor(private readonly m: KubeletMetrics, private readonly log: Logger, private readonly now: () => number = () => performance.now()) {}

  /** A pod new to the agent. One that already has a startTime was started before (an agent restart): not tracked, as the kubelet. */
  seen(pod: Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid || pod.status?.startTime || this.pods.has(uid)) return;
    const t = this.now();
    const ms = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
    const name = `${pod.metadata!.namespace}/${pod.metadata!.name}`;
    this.pods.set(uid, { name, hostNetwork: pod.spec?.hostNetwork ?? false, firstSeen: t, last: t, ms, pulling: false, firstStartedPulling: undefined, lastFinishedPulling: undefined });
  }

  lap(uid: string, phase: Phase): void {
    const s = this.pods.get(uid);
    if (!s) return;
    const t = this.now();
    s.ms[phase] += t - s.last;
    s.last = t;
  }

  pullStarted(uid: string): void {
    const s = this.pods.get(uid);
    if (!s) return;
    s.pulling = true;
    s.firstStartedPulling ??= this.now();
  }

  /** Only a pull that succeeded moves the end of the pulling span (the kubelet's RecordImageFinishedPulling). */
  pullFinished(uid: string, ok: boolean): void {
    const s = this.pods.get(uid);
    if (!s?.pulling) return;
    s.pulling = false;
    if (ok) s.lastFinishedPulling = this.now();
  }

  /** A status the control plane accepted. The pod's start ends with the first one that has every container running. */
  statusPushed(uid: string, status: PodStatus): void {
    const s = this.pods.get(uid);
    if (!s) return;
    if (status.phase === "Succeeded" || status.phase === "Failed") {
      this.pods.delete(uid);
      return;
    }
    if (!allRunning(status)) return;
    this.lap(uid, "push");
    this.pods.delete(uid);
    const totalMs = s.last - s.firstSeen;
    const pullingMs = s.firstStartedPulling !== undefined && s.lastFinishedPulling !== undefined ? s.lastFinishedPulling - s.firstStartedPulling : 0;
    // The first pod with a network says how long the node's CNI took to be ready.
    const first = !s.hostNetwork && !this.firstNetworkPodSeen;
    if (first) this.firstNetworkPodSeen = true;
    const labels = { first_with_network: first ? "true" : "" };
    this.m.podStartSLIDuration.observe(labels, (totalMs - pullingMs) / 1000);
    this.m.podStartTotalDuration.observe(labels, totalMs / 1000);
    if (this.log.level === "debug" || this.log.level === "trace") {
      const phases = Object.fromEntries(PHASES.map((p) => [p, round(s.ms[p])]));
      this.log.debug({ pod: s.name, podUid: uid, ...phases, total: round(totalMs), pulling: round(pullingMs) }, "pod started: ms per phase");
    }
  }

  forget(uid: string): void {
    this.pods.delete(uid);
  }

  /**
   * The image manager's events, passed on, with its pulls marked for the pod:
   * it reports "Pulling" before a pull and "Pulled" or "Failed" after, where
   * the kubelet's image manager tells its startup tracker too ("Pulled" with
   * no pull before it is an image already present: not a pull).
   */
  pullEvents(inner: PodEvents): PodEvents {
    return {
      emit: (pod, type, reason, message, fieldPath) => {
        const uid = pod.metadata?.uid;
        if (uid && reason === "Pulling") this.pullStarted(uid);
        else if (uid && (reason === "Pulled" || reason === "Failed")) this.pullFinished(uid, reason === "Pulled");
        inner.emit(pod, type, reason, message, fieldPath);
      },
    };
  }
}
