// kubelet_pod_worker_duration_seconds: how long a pod's work took from the
// moment it was queued to the end of its sync, by the kubelet's operation
// types. The kubelet labels an update by what dispatched it (create: a pod
// new to the node; update: its object changed; sync: a resync, relist or
// timer) and terminating work "kill", the last one "terminated".
import type { Histogram } from "prom-client";

export type DispatchedOp = "create" | "update";
export type WorkerOp = DispatchedOp | "sync" | "kill" | "terminated";

/** Which label wins when several wake-ups coalesce into one sync. */
const RANK: Record<DispatchedOp, number> = { create: 2, update: 1 };

export interface WorkerTiming {
  op: DispatchedOp | "sync";
  at: number;
}

export class PodWorkerTimer {
  private readonly pending = new Map<string, WorkerTiming>();

  constructor(private readonly hist: Histogram<"operation_type">, private readonly now: () => number = () => performance.now()) {}

  /** A pod's object arrived (new or changed): the clock of its next sync starts now, unless it already runs. */
  dispatched(uid: string, op: DispatchedOp): void {
    const cur = this.pending.get(uid);
    if (!cur) this.pending.set(uid, { op, at: this.now() });
    else if (cur.op === "sync" || RANK[op] > RANK[cur.op]) cur.op = op;
  }

  /** A sync starts: what it works on and since when (a relist or timer wake-up starts its clock here). */
  begin(uid: string): WorkerTiming {
    const t = this.pending.get(uid) ?? { op: "sync", at: this.now() };
    this.pending.delete(uid);
    return t;
  }

  /** The sync ended (or failed): `terminating` = the pod is deleted or going; `finished` = its worker is dropped. */
  end(t: WorkerTiming, terminating: boolean, finished: boolean): void {
    const op: WorkerOp = finished ? "terminated" : terminating ? "kill" : t.op;
    this.hist.observe({ operation_type: op }, (this.now() - t.at) / 1000);
  }

  forget(uid: string): void {
    this.pending.delete(uid);
  }
}
