// A cache of one kind of object kept as the pod source keeps pods (list +
// watch + resync, controlplane/podsource.ts): a full list at start, after a
// lost stream, every resync period and whenever asked (relist), then a watch
// from the list's version. The cache is replaced by each list, so it is right
// after any gap; `onChange` tells the owner something may have changed.
import type { ClientReadableStream, Metadata, ServiceError } from "@grpc/grpc-js";
import { WatchEvent_Type, type ObjectMeta } from "@plasmacloud/proto/k8shost";
import { errorCode } from "@plasmacloud/common/errors";
import { GrpcCallError } from "@plasmacloud/common/grpc";
import type { Logger } from "@plasmacloud/common/log";
import { Backoff, sleep } from "../retry/backoff";
import { ProblemLog } from "../retry/problem";

export interface ListWatch<T, E> {
  /** For logs: "services", "endpoint slices". */
  what: string;
  list(): Promise<{ items: T[]; resourceVersion: string }>;
  watch(resourceVersion: string, md: Metadata): ClientReadableStream<E>;
  /** The event's type and object (undefined for a bookmark). */
  unwrap(ev: E): { type: WatchEvent_Type; obj: T | undefined };
  metadata(): Metadata;
}

const keyOf = (m: ObjectMeta): string => `${m.orgId}/${m.projectId}/${m.namespace}/${m.name}`;

export class Informer<T extends { metadata: ObjectMeta | undefined }, E> {
  readonly items = new Map<string, T>();
  /** The first list has been applied. */
  synced = false;
  private readonly backoff = new Backoff(500, 10_000);
  private readonly problem: ProblemLog;
  private readonly stopped = new AbortController();
  private endWatch: (() => void) | undefined;
  private relistWanted = false;

  constructor(private readonly lw: ListWatch<T, E>, private readonly onChange: () => void, private readonly log: Logger, private readonly resyncMs: number) {
    this.problem = new ProblemLog(log, `${lw.what} list/watch`);
  }

  async run(): Promise<void> {
    const signal = this.stopped.signal;
    while (!signal.aborted) {
      try {
        this.relistWanted = false;
        const rv = await this.list();
        this.backoff.reset();
        this.problem.ok();
        if (!this.relistWanted) await this.watch(rv, signal);
      } catch (err) {
        if (signal.aborted) break;
        const tooOld = errorCode(err) === "OutOfRange"; // resume point compacted away: list again at once
        const delay = tooOld ? 0 : this.backoff.next();
        if (!tooOld) this.problem.failed(err, delay);
        await sleep(delay, signal);
      }
    }
  }

  /** Lists again now (e.g. the node's set of tenants changed, and with it what it may see). */
  relist(): void {
    this.relistWanted = true;
    this.endWatch?.();
  }

  stop(): void {
    this.stopped.abort();
    this.endWatch?.();
  }

  private async list(): Promise<string> {
    const res = await this.lw.list();
    this.items.clear();
    for (const o of res.items) if (o.metadata) this.items.set(keyOf(o.metadata), o);
    this.synced = true;
    this.log.debug({ what: this.lw.what, items: res.items.length, resourceVersion: res.resourceVersion }, "listed");
    this.onChange();
    return res.resourceVersion;
  }

  /** Resolves when the stream ends, the resync period is over or a relist is asked for. */
  private watch(resourceVersion: string, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const stream = this.lw.watch(resourceVersion, this.lw.metadata());
      let settled = false;
      const finish = (err?: unknown): void => {
        if (settled) return;
        settled = true;
        this.endWatch = undefined;
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
      this.endWatch = () => finish();
      const resync = setTimeout(() => finish(), this.resyncMs);
      stream.on("data", (ev: E) => {
        const { type, obj } = this.lw.unwrap(ev);
        if (type === WatchEvent_Type.BOOKMARK || !obj?.metadata) return;
        if (type === WatchEvent_Type.DELETED) this.items.delete(keyOf(obj.metadata));
        else this.items.set(keyOf(obj.metadata), obj);
        this.onChange();
      });
      stream.on("error", (err: ServiceError) => finish(new GrpcCallError(`Watch ${this.lw.what}`, err.code, err.details || err.message, {}, { cause: err })));
      stream.on("end", () => finish());
    });
  }
}
