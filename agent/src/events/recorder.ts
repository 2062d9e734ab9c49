// The agent's event recorder, client-go's broadcaster + recordToSink: emit()
// builds the event and queues it (bounded; a full queue drops and counts, so
// the pod loops never wait on the control plane), one worker correlates each
// event (correlator.ts) and sends it: a create, or an update of the event it
// repeats (NotFound: created again). Transport failures (Unavailable,
// DeadlineExceeded) are retried up to 12 times 10 s apart, the first wait
// randomized so a fleet does not retry in step; a refusal is dropped.
import type { Event, Pod } from "@plasmacloud/proto/k8shost";
import { errorCode, errorMessage } from "@plasmacloud/common/errors";
import type { Logger } from "@plasmacloud/common/log";
import { sleep } from "../retry/backoff";
import { EventCorrelator } from "./correlator";
import type { EventSink } from "./sink";
import type { EventType, NodeEvents, PodEvents } from "./types";

/** The source component kubectl shows in FROM; tools that filter kubelet events keep working. */
export const EVENT_COMPONENT = "kubelet";
export const MAX_QUEUED = 1000; // client-go's maxQueuedEvents
export const MAX_TRIES = 12; // client-go's maxTriesPerEvent
export const RETRY_SLEEP_MS = 10_000;
/** events.k8s.io's limit; core/v1 has none, but a queue of unbounded messages is not bounded. */
const MAX_MESSAGE = 1024;

export type DropReason = "queue_full" | "spam" | "rejected" | "unavailable";

export interface RecorderOptions {
  nodeName: string;
  log: Logger;
  /** Counts events that never reached the control plane. */
  onDrop?: (reason: DropReason) => void;
  now?: () => number;
  maxQueued?: number;
  retrySleepMs?: number;
  spamBurst?: number;
  spamQps?: number;
}

interface Queued {
  event: Event;
}

export class EventRecorder implements PodEvents, NodeEvents {
  private readonly queue: Queued[] = [];
  private readonly correlator: EventCorrelator;
  private readonly now: () => number;
  private readonly stopped = new AbortController();
  private wake: (() => void) | undefined;
  private idle: (() => void)[] = [];
  private lastNano = 0n;
  private busy = false;

  constructor(private readonly sink: EventSink, private readonly o: RecorderOptions) {
    this.now = o.now ?? Date.now;
    this.correlator = new EventCorrelator({ now: this.now, newName: (n) => this.newName(n), spamBurst: o.spamBurst, spamQps: o.spamQps });
  }

  emit(pod: Pod, type: EventType, reason: string, message: string, fieldPath = ""): void {
    const m = pod.metadata;
    if (!m) return;
    const ref = { kind: "Pod", namespace: m.namespace, name: m.name, uid: m.uid, fieldPath };
    this.enqueue(this.build(ref, { namespace: m.namespace, orgId: m.orgId, projectId: m.projectId }, type, reason, message));
  }

  emitNode(type: EventType, reason: string, message: string): void {
    // The kubelet's nodeRef: the node's name as its uid; node events live in "default".
    const ref = { kind: "Node", namespace: "", name: this.o.nodeName, uid: this.o.nodeName, fieldPath: "" };
    this.enqueue(this.build(ref, { namespace: "default", orgId: "", projectId: "" }, type, reason, message));
  }

  /** The worker; returns when stopped. Events still queued then are dropped, as client-go's are. */
  async run(): Promise<void> {
    const signal = this.stopped.signal;
    while (!signal.aborted) {
      const next = this.queue.shift();
      if (!next) {
        for (const r of this.idle.splice(0)) r();
        await new Promise<void>((r) => {
          const done = (): void => {
            signal.removeEventListener("abort", done);
            r();
          };
          this.wake = done;
          signal.addEventListener("abort", done, { once: true });
        });
        this.wake = undefined;
        continue;
      }
      this.busy = true;
      try {
        await this.record(next.event);
      } catch (err) {
        this.o.log.warn({ err: errorMessage(err) }, "event not recorded");
      } finally {
        this.busy = false;
      }
    }
    for (const r of this.idle.splice(0)) r();
  }

  stop(): void {
    this.stopped.abort();
  }

  /** Resolves once everything queued so far has been sent or dropped (tests, shutdown). */
  drained(): Promise<void> {
    if (this.queue.length === 0 && !this.busy) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private build(involvedObject: Event["involvedObject"], where: { namespace: string; orgId: string; projectId: string }, type: EventType, reason: string, message: string): Event {
    const at = new Date(this.now());
    return {
      metadata: { name: this.newName(involvedObject!.name), ...where, uid: "", resourceVersion: "", labels: {}, annotations: {}, generation: 0n, creationTimestamp: undefined, deletionTimestamp: undefined, deletionGracePeriodSeconds: undefined },
      involvedObject,
      reason,
      message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 3)}...` : message,
      source: { component: EVENT_COMPONENT, host: this.o.nodeName },
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
      type,
    };
  }

  private enqueue(e: Event): void {
    if (this.stopped.signal.aborted) return;
    if (this.queue.length >= (this.o.maxQueued ?? MAX_QUEUED)) {
      this.o.onDrop?.("queue_full");
      return;
    }
    this.queue.push({ event: e });
    this.wake?.();
  }

  /** `<object>.<hex of unix nanoseconds>`, as client-go names events; strictly increasing here. */
  private newName(objectName: string): string {
    let ns = BigInt(this.now()) * 1_000_000n;
    if (ns <= this.lastNano) ns = this.lastNano + 1n;
    this.lastNano = ns;
    return `${objectName}.${ns.toString(16)}`;
  }

  private async record(incoming: Event): Promise<void> {
    const c = this.correlator.correlate(incoming);
    if (!c) {
      this.o.onDrop?.("spam");
      return;
    }
    const signal = this.stopped.signal;
    for (let tries = 1; ; tries++) {
      try {
        this.correlator.updateState(c.key, await this.send(c.event, c.update));
        return;
      } catch (err) {
        const code = errorCode(err);
        if (code !== "Unavailable" && code !== "DeadlineExceeded") {
          // Refused (a conflict, a denial, a bad event): retrying sends the same thing again.
          if (c.update && code === "Conflict") this.correlator.forget(c.key);
          this.o.onDrop?.("rejected");
          this.o.log.debug({ reason: c.event.reason, object: c.event.involvedObject?.name, code, err: errorMessage(err) }, "control plane refused an event; not retried");
          return;
        }
        if (tries >= MAX_TRIES || signal.aborted) {
          this.o.onDrop?.("unavailable");
          this.o.log.warn({ reason: c.event.reason, object: c.event.involvedObject?.name, tries, err: errorMessage(err) }, "event dropped: control plane unavailable");
          return;
        }
        const base = this.o.retrySleepMs ?? RETRY_SLEEP_MS;
        await sleep(tries === 1 ? base * Math.random() : base, signal);
      }
    }
  }

  private async send(e: Event, update: boolean): Promise<Event> {
    if (update) {
      try {
        return await this.sink.update(e);
      } catch (err) {
        // The event went away (TTL, a restarted control plane): create it again.
        if (errorCode(err) !== "NotFound") throw err;
      }
    }
    return this.sink.create({ ...e, metadata: { ...e.metadata!, resourceVersion: "" } });
  }
}
