// Where the stand-in keeps events: per tenant, each event living `ttlMs` after
// its last write (kube-apiserver's --event-ttl, 1h by default: nothing writes
// a deleted pod's events any more, so they go an hour later), and at most
// `maxPerTenant` per tenant, the least recently written evicted first, so one
// noisy tenant (or node) can only push out its own.
import type { Event } from "@plasmacloud/proto/k8shost";

export const EVENT_TTL_MS = 3_600_000;
export const MAX_EVENTS_PER_TENANT = 5_000;

export interface EventStoreOptions {
  /** How long an event lives after its last write (default 1h). */
  ttlMs?: number;
  /** Events kept per tenant (default 5000). */
  maxPerTenant?: number;
  /** The clock, for tests. */
  now?: () => number;
}

/** Node events have no tenant: they are kept under this one. */
export const CLUSTER_SCOPE = "";

export const tenantKey = (orgId: string, projectId: string): string => (orgId || projectId ? `${orgId}/${projectId}` : CLUSTER_SCOPE);

interface Entry {
  event: Event;
  writtenAt: number;
}

export class EventStore {
  readonly ttlMs: number;
  private readonly max: number;
  private readonly now: () => number;
  /** tenant -> (namespace/name -> entry), each in last-write order: the oldest write comes first. */
  private readonly tenants = new Map<string, Map<string, Entry>>();

  constructor(private readonly nextRv: () => string, o: EventStoreOptions = {}) {
    this.ttlMs = o.ttlMs ?? EVENT_TTL_MS;
    this.max = o.maxPerTenant ?? MAX_EVENTS_PER_TENANT;
    this.now = o.now ?? Date.now;
    if (this.ttlMs <= 0 || this.max <= 0) throw new Error("event store: ttlMs and maxPerTenant must be > 0");
  }

  get(tenant: string, namespace: string, name: string): Event | undefined {
    const e = this.live(tenant)?.get(`${namespace}/${name}`);
    return e && structuredClone(e.event);
  }

  /** Stores the event with a new resource version (a write renews its TTL); returns a copy. */
  put(tenant: string, event: Event): Event {
    const m = event.metadata!;
    const t = this.live(tenant) ?? new Map<string, Entry>();
    this.tenants.set(tenant, t);
    const key = `${m.namespace}/${m.name}`;
    const stored = structuredClone(event);
    stored.metadata!.resourceVersion = this.nextRv();
    t.delete(key); // re-inserted last: the newest write
    t.set(key, { event: stored, writtenAt: this.now() });
    while (t.size > this.max) t.delete(t.keys().next().value as string);
    return structuredClone(stored);
  }

  /** Every live event of every tenant (copies), for the service to filter. */
  *all(): Generator<{ tenant: string; event: Event }> {
    for (const tenant of [...this.tenants.keys()]) {
      for (const e of this.live(tenant)?.values() ?? []) yield { tenant, event: structuredClone(e.event) };
    }
  }

  /** Live events held (expired ones dropped first). */
  get size(): number {
    let n = 0;
    for (const tenant of [...this.tenants.keys()]) n += this.live(tenant)?.size ?? 0;
    return n;
  }

  /** The tenant's map with expired events dropped (they sit at the front); undefined when empty. */
  private live(tenant: string): Map<string, Entry> | undefined {
    const t = this.tenants.get(tenant);
    if (!t) return undefined;
    const cutoff = this.now() - this.ttlMs;
    for (const [k, e] of t) {
      if (e.writtenAt > cutoff) break;
      t.delete(k);
    }
    if (t.size === 0) {
      this.tenants.delete(tenant);
      return undefined;
    }
    return t;
  }
}
