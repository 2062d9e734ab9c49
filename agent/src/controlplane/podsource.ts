// The pod source: which pods the control plane has bound to this node.
// A full ListPods at start, after every stream loss and every resync period,
// then WatchPods from the list's resource_version. Events are applied in
// order, one at a time, so a relist never races a watch event.
import type { ClientReadableStream, ServiceError } from "@grpc/grpc-js";
import { ListPodsRequest, WatchEvent_Type, WatchPodsRequest, type Pod, type WatchEvent } from "@plasmacloud/proto/k8shost";
import { errorCode } from "@plasmacloud/common/errors";
import { GrpcCallError } from "@plasmacloud/common/grpc";
import type { Logger } from "@plasmacloud/common/log";
import { Backoff, sleep } from "../retry/backoff";
import { ProblemLog } from "../retry/problem";
import type { ControlPlane } from "./client";

export interface PodSink {
  /** A pod bound to this node was seen (new or changed). */
  upsert(pod: Pod): void;
  /** A pod is gone from the control plane; `last` is its final object when known. */
  remove(uid: string, last?: Pod): void;
  /** The sink now holds the complete set as of a fresh list. */
  synced(): void;
}

export class PodSource {
  private readonly known = new Map<string, string>(); // uid -> resource_version
  private readonly backoff = new Backoff(500, 10_000);
  private readonly problem: ProblemLog;
  private stream: ClientReadableStream<WatchEvent> | undefined;
  private stopped = new AbortController();

  constructor(
    private readonly cp: ControlPlane,
    private readonly nodeName: string,
    private readonly sink: PodSink,
    private readonly log: Logger,
    private readonly resyncMs: number,
  ) {
    this.problem = new ProblemLog(log, "pod list/watch");
  }

  async run(): Promise<void> {
    const signal = this.stopped.signal;
    while (!signal.aborted) {
      try {
        const rv = await this.list();
        this.backoff.reset();
        this.problem.ok();
        await this.watch(rv, signal);
      } catch (err) {
        if (signal.aborted) break;
        // A resource version too old to resume from (OUT_OF_RANGE): relist at once, nothing failed.
        const tooOld = errorCode(err) === "OutOfRange";
        const delay = tooOld ? 0 : this.backoff.next();
        if (!tooOld) this.problem.failed(err, delay);
        await sleep(delay, signal);
      }
    }
  }

  stop(): void {
    this.stopped.abort();
    this.stream?.cancel();
  }

  private async list(): Promise<string> {
    const res = await this.cp.call("ListPods", this.cp.pods.listPods.bind(this.cp.pods), ListPodsRequest.fromPartial({ nodeName: this.nodeName }));
    const seen = new Set<string>();
    for (const pod of res.items) {
      const uid = pod.metadata?.uid ?? "";
      seen.add(uid);
      this.apply(pod);
    }
    for (const uid of [...this.known.keys()]) {
      if (!seen.has(uid)) {
        this.known.delete(uid);
        this.sink.remove(uid);
      }
    }
    this.log.debug({ pods: res.items.length, resourceVersion: res.resourceVersion }, "pods listed");
    this.sink.synced();
    return res.resourceVersion;
  }

  private apply(pod: Pod): void {
    const uid = pod.metadata?.uid ?? "";
    const rv = pod.metadata?.resourceVersion ?? "";
    if (this.known.get(uid) === rv) return;
    this.known.set(uid, rv);
    this.sink.upsert(pod);
  }

  /** Resolves when the stream ends or the resync period is over (then relist). */
  private watch(resourceVersion: string, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const md = this.cp.metadata();
      const stream = this.cp.pods.watchPods(WatchPodsRequest.fromPartial({ nodeName: this.nodeName, resourceVersion }), md);
      this.stream = stream;
      let settled = false;
      const finish = (err?: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(resync);
        signal.removeEventListener("abort", onAbort);
        stream.removeAllListeners();
        stream.on("error", () => {}); // a late error after cancel() must not crash
        stream.cancel();
        if (err) reject(err);
        else resolve();
      };
      const onAbort = (): void => finish();
      signal.addEventListener("abort", onAbort, { once: true });
      const resync = setTimeout(() => finish(), this.resyncMs);
      stream.on("data", (ev: WatchEvent) => {
        const pod = ev.pod;
        this.log.debug({ type: ev.type, pod: pod?.metadata?.name, rv: ev.resourceVersion }, "watch event");
        if (ev.type === WatchEvent_Type.BOOKMARK || !pod?.metadata) return;
        if (ev.type === WatchEvent_Type.DELETED) {
          if (this.known.delete(pod.metadata.uid)) this.sink.remove(pod.metadata.uid, pod);
        } else if (pod.spec?.nodeName === this.nodeName) {
          this.apply(pod);
        } else if (this.known.delete(pod.metadata.uid)) {
          this.sink.remove(pod.metadata.uid); // re-bound elsewhere
        }
      });
      stream.on("error", (err: ServiceError) => finish(new GrpcCallError("WatchPods", err.code, err.details || err.message, {}, { cause: err })));
      stream.on("end", () => finish());
    });
  }
}
