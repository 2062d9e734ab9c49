// What the agent knows about one pod between syncs.
import type { Pod } from "@plasmacloud/proto/k8shost";
import type { WorkerNotes } from "../status/compute";
import type { TimedState } from "../runtime/types";

export interface PodWork {
  uid: string;
  /** Desired state from the control plane; undefined once it is gone there. */
  pod: Pod | undefined;
  /** The last pod object seen, kept for teardown after it is gone. */
  lastPod: Pod | undefined;
  firstSeen: number;
  notes: WorkerNotes;
  /** All containers were seen running once (for the start-latency metric). */
  startObserved: boolean;
  /** The pod's deletion was finalized with the control plane. */
  finalized: boolean;
  /** When its last sync ended (performance.now(); -1: never): a relist begun later already shows what it did. */
  lastSyncEnd: number;
  /** The last sync's final view of the runtime (Pleg.current says whether it still holds). */
  lastRead: TimedState | undefined;
  /** The sandbox whose network setUp produced notes.podIPs, and when it was last checked. */
  network: { sandboxId: string; checkedAt: number } | undefined;
}

export function newWork(uid: string, runtimeName: string, hostIP: string): PodWork {
  return {
    uid,
    pod: undefined,
    lastPod: undefined,
    firstSeen: Date.now(),
    notes: { waiting: new Map(), attempts: new Map(), goneTerminated: new Map(), podFailure: undefined, podProblem: undefined, podIPs: [], hostIP, startTime: undefined, runtimeName },
    startObserved: false,
    finalized: false,
    lastSyncEnd: -1,
    lastRead: undefined,
    network: undefined,
  };
}
