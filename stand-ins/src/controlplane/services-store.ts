// One kind of tenant-scoped object with watch history (Services, EndpointSlices):
// objects keyed by tenant/namespace/name, versions from the store's one
// counter (etcd's revision), a bounded history a watch may resume from, and
// live watchers. Pods keep their own history in store.ts.
import { WatchEvent_Type, type ObjectMeta } from "@plasmacloud/proto/k8shost";

export interface KindEvent<T> {
  rv: number;
  type: WatchEvent_Type;
  obj: T;
}

type WithMeta = { metadata: ObjectMeta | undefined };

export const objectKey = (m: Pick<ObjectMeta, "orgId" | "projectId" | "namespace" | "name">): string => `${m.orgId}/${m.projectId}/${m.namespace}/${m.name}`;

const clone = <T>(v: T): T => structuredClone(v);

export class KindStore<T extends WithMeta> {
  private readonly items = new Map<string, T>();
  private readonly history: KindEvent<T>[] = [];
  private compactedRv = 0;
  private readonly watchers = new Set<(ev: KindEvent<T>) => void>();

  constructor(private readonly nextRv: () => string, private readonly historyLimit = 1000) {}

  get(key: string): T | undefined {
    const o = this.items.get(key);
    return o && clone(o);
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  /** The live objects, not copies: callers must not change them. */
  values(): IterableIterator<T> {
    return this.items.values();
  }

  /** Stores the object (or removes it for DELETED) with a new resource version, and tells the watchers. */
  put(obj: T, type: WatchEvent_Type): T {
    const o = clone(obj);
    const rv = this.nextRv();
    o.metadata!.resourceVersion = rv;
    const key = objectKey(o.metadata!);
    if (type === WatchEvent_Type.DELETED) this.items.delete(key);
    else this.items.set(key, o);
    const ev = { rv: Number(rv), type, obj: o };
    this.history.push(ev);
    if (this.history.length > this.historyLimit) this.compactedRv = this.history.shift()!.rv;
    for (const w of this.watchers) w({ ...ev, obj: clone(o) });
    return clone(o);
  }

  /** Oldest version a watch may start from; older ones get OUT_OF_RANGE. */
  oldestWatchable(): number {
    return this.compactedRv;
  }

  /** Replays events after `from`, then streams live ones; returns an unsubscribe. */
  watch(from: number, send: (ev: KindEvent<T>) => void): () => void {
    for (const ev of this.history) if (ev.rv > from) send({ ...ev, obj: clone(ev.obj) });
    const w = (ev: KindEvent<T>): void => send(ev);
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }
}
