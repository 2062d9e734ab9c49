// client-go's EventCorrelator (tools/record/events_cache.go), the kubelet's:
//  - the aggregator: more than 10 events within 10 minutes that differ only in
//    their message become one "(combined from similar events): ..." event;
//  - the logger: an event seen before (same source, object, type, reason and
//    message) is sent again as an update of the first, count + 1;
//  - the spam filter last (spam.ts).
// Every cache is a bounded LRU, as client-go's (4096 entries each).
import type { Event } from "@plasmacloud/proto/k8shost";
import { Lru } from "./lru";
import { SpamFilter } from "./spam";

export const LRU_ENTRIES = 4096;
export const AGGREGATE_MAX_EVENTS = 10;
export const AGGREGATE_INTERVAL_MS = 600_000;
export const COMBINED_PREFIX = "(combined from similar events): ";

export interface Correlated {
  /** What to send: a new event (count 1) or an update of an earlier one. */
  event: Event;
  /** The cache key the server's answer is recorded under (updateState). */
  key: string;
  update: boolean;
}

const SEP = "\u0000";
const objectKey = (e: Event): string[] => {
  const o = e.involvedObject;
  return [e.source?.component ?? "", e.source?.host ?? "", o?.kind ?? "", o?.namespace ?? "", o?.name ?? "", o?.uid ?? ""];
};
/** getEventKey: everything that makes two events "the same". */
export const eventKey = (e: Event): string => [...objectKey(e), e.involvedObject?.fieldPath ?? "", e.type, e.reason, e.message].join(SEP);
/** EventAggregatorByReasonFunc: the same but the message (and, as upstream, the field path). */
const aggregateKey = (e: Event): string => [...objectKey(e), e.type, e.reason].join(SEP);

interface AggregateRecord {
  messages: Set<string>;
  lastMs: number;
}

interface EventLog {
  count: number;
  firstTimestamp: Date | undefined;
  name: string;
  resourceVersion: string;
}

export interface CorrelatorOptions {
  now?: () => number;
  /** Names a new event about `objectName` (`<name>.<hex>`). */
  newName: (objectName: string) => string;
  cacheEntries?: number;
  spamBurst?: number;
  spamQps?: number;
}

export class EventCorrelator {
  private readonly now: () => number;
  private readonly aggregates: Lru<AggregateRecord>;
  private readonly logs: Lru<EventLog>;
  private readonly spam: SpamFilter;

  constructor(private readonly o: CorrelatorOptions) {
    this.now = o.now ?? Date.now;
    const n = o.cacheEntries ?? LRU_ENTRIES;
    this.aggregates = new Lru(n);
    this.logs = new Lru(n);
    this.spam = new SpamFilter(n, this.now, o.spamBurst, o.spamQps);
  }

  /** What to send for this new occurrence, or undefined when the spam filter skips it. */
  correlate(incoming: Event): Correlated | undefined {
    const { event: aggregated, key } = this.aggregate(incoming);
    const observed = this.observe(aggregated, key);
    if (this.spam.filter(observed)) return undefined;
    return { event: observed, key, update: observed.count > 1 };
  }

  /**
   * Records what the server answered (name, resource version, count). Keyed by
   * the correlate() key: upstream re-derives it from the event, which misses the
   * aggregate's key; with resource versions checked here that would conflict.
   */
  updateState(key: string, fromServer: Event): void {
    this.logs.set(key, { count: fromServer.count, firstTimestamp: fromServer.firstTimestamp, name: fromServer.metadata?.name ?? "", resourceVersion: fromServer.metadata?.resourceVersion ?? "" });
  }

  /** The server refused an update (a conflict): the next occurrence starts a new event. */
  forget(key: string): void {
    this.logs.delete(key);
  }

  private aggregate(e: Event): { event: Event; key: string } {
    const now = this.now();
    const akey = aggregateKey(e);
    let rec = this.aggregates.get(akey);
    if (!rec || now - rec.lastMs > AGGREGATE_INTERVAL_MS) rec = { messages: new Set(), lastMs: 0 };
    rec.messages.add(e.message);
    rec.lastMs = now;
    this.aggregates.set(akey, rec);
    if (rec.messages.size < AGGREGATE_MAX_EVENTS) return { event: e, key: eventKey(e) };
    rec.messages.delete(rec.messages.values().next().value as string); // do not grow past the max
    const at = new Date(now);
    const combined: Event = {
      ...structuredClone(e),
      metadata: { ...structuredClone(e.metadata!), name: this.o.newName(e.involvedObject?.name ?? ""), resourceVersion: "" },
      message: COMBINED_PREFIX + e.message,
      count: 1,
      firstTimestamp: at,
      lastTimestamp: at,
    };
    return { event: combined, key: akey };
  }

  private observe(e: Event, key: string): Event {
    const out = structuredClone(e);
    const last = this.logs.get(key);
    if (last && last.count > 0) {
      out.metadata!.name = last.name;
      out.metadata!.resourceVersion = last.resourceVersion;
      out.firstTimestamp = last.firstTimestamp;
      out.count = last.count + 1;
    }
    this.logs.set(key, { count: out.count, firstTimestamp: out.firstTimestamp, name: out.metadata!.name, resourceVersion: out.metadata!.resourceVersion });
    return out;
  }
}
