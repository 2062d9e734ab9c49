// The stand-in's object store: one global resource version counter (like
// etcd's revision), pods keyed by tenant/namespace/name, a bounded history of
// pod events so watches can resume from a version, and live watchers.
import { randomUUID } from "node:crypto";
import { WatchEvent_Type, type Node, type Pod, type ConfigMap, type Secret, type EndpointSlice, type Service } from "@plasmacloud/proto/k8shost";
import { KindStore } from "./services-store";

export interface PodEvent {
  rv: number;
  type: WatchEvent_Type;
  pod: Pod;
}

export type PodFilter = (pod: Pod) => boolean;

export const podKey = (org: string, project: string, ns: string, name: string): string => `${org}/${project}/${ns}/${name}`;
export const keyOf = (p: Pod): string => podKey(p.metadata!.orgId, p.metadata!.projectId, p.metadata!.namespace, p.metadata!.name);

const clone = <T>(v: T): T => structuredClone(v);

export class Store {
  rv = 0;
  readonly pods = new Map<string, Pod>();
  readonly nodes = new Map<string, Node>();
  readonly configMaps = new Map<string, ConfigMap>();
  readonly secrets = new Map<string, Secret>();
  /** Services and the EndpointSlices the endpoints controller keeps for them, with watch history. */
  readonly services: KindStore<Service>;
  readonly endpointSlices: KindStore<EndpointSlice>;
  private readonly history: PodEvent[] = [];
  /** Events up to this version were dropped from history (compacted). */
  private compactedRv = 0;
  private readonly watchers = new Set<(ev: Readonly<PodEvent>) => void>();

  constructor(private readonly historyLimit = 1000) {
    this.services = new KindStore<Service>(() => this.nextRv(), historyLimit);
    this.endpointSlices = new KindStore<EndpointSlice>(() => this.nextRv(), historyLimit);
  }

  nextRv(): string {
    return String(++this.rv);
  }

  newUid(): string {
    return randomUUID();
  }

  /** Stores the pod with a new resource version and tells the watchers. */
  putPod(pod: Pod, type: WatchEvent_Type): Pod {
    const p = clone(pod);
    p.metadata!.resourceVersion = this.nextRv();
    if (type === WatchEvent_Type.DELETED) this.pods.delete(keyOf(p));
    else this.pods.set(keyOf(p), p);
    this.emit({ rv: this.rv, type, pod: p });
    return clone(p);
  }

  private emit(ev: PodEvent): void {
    this.history.push(ev);
    if (this.history.length > this.historyLimit) this.compactedRv = (this.history.shift() as PodEvent).rv;
    for (const w of this.watchers) w(ev);
  }

  /** Oldest version a watch may start from; older ones get OUT_OF_RANGE. */
  oldestWatchable(): number {
    return this.compactedRv;
  }

  /**
   * Replays events after `from` then streams live ones; returns an unsubscribe.
   * `send` gets the store's own copy, shared by every watcher and never changed
   * after putPod: it must only read it (the watch RPC copies it as it encodes;
   * a structured clone per watcher per event bought nothing).
   */
  watch(from: number, send: (ev: Readonly<PodEvent>) => void): () => void {
    for (const ev of this.history) if (ev.rv > from) send(ev);
    const w = (ev: Readonly<PodEvent>): void => send(ev); // one entry per call, even for the same `send`
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }

  getPod(key: string): Pod | undefined {
    const p = this.pods.get(key);
    return p && clone(p);
  }
}
