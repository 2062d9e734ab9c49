// The relist (the kubelet's PLEG, pod lifecycle event generator): list what
// the runtime holds for this node and report the pods whose sandboxes or
// containers changed since the previous list. The pod controller wakes
// exactly those pods; a relist that fails is logged once, not per tick.
// When the runtime has change events (runtime.watchChanges: containerd's),
// the relist runs on them and otherwise rarely, as the kubelet's evented PLEG
// (relist-schedule.ts says when); without them, or while they are down, it is
// the generic relist every period.
import { errorCode } from "@plasmacloud/common/errors";
import type { Logger } from "@plasmacloud/common/log";
import type { RelistObserver } from "../observe/relist";
import { Backoff, sleep } from "../retry/backoff";
import { ProblemLog } from "../retry/problem";
import type { PodRuntime, PodRuntimeState, RuntimeChange, TimedState } from "../runtime/types";
import { RelistSchedule, type ScheduleOptions } from "./relist-schedule";

export interface PodLifecycleEvent {
  uid: string;
  /** The runtime holds nothing of the pod any more. */
  gone: boolean;
}

export interface PlegOptions {
  /** The generic relist's period (runtime.relistSeconds). */
  periodMs: number;
  /** With the runtime's events: the relist's period when nothing changes (runtime.eventedRelistSeconds); 0: events unused. */
  eventedPeriodMs: number;
  /** Defaults below; tests shorten them. */
  minGapMs?: number;
  freshMarginMs?: number;
  exitWaitMs?: number;
  /** The clock of the schedule and the cache: performance.now(). */
  now?: () => number;
}

/**
 * 100 ms: a burst of events (a pod's sandbox and containers starting) costs
 * one relist per 100 ms, and CRI's view, 40-350 ms behind containerd's
 * events, has often caught up by then. 200 ms of margin: containerd's events
 * came at most 0.4 ms after the CRI call that caused them on the test machine.
 */
const DEFAULTS = { minGapMs: 100, freshMarginMs: 200, exitWaitMs: 30_000 };
/** Resubscribing after the events dropped: 1 s doubling to 30 s (the generic relist runs meanwhile). */
const RESUBSCRIBE = { initialMs: 1000, maxMs: 30_000 };

/** What a relist compares: identity and state of each sandbox and container. */
const stateKey = (s: PodRuntimeState): string =>
  JSON.stringify([s.sandboxes.map((x) => [x.id, x.ready]), s.containers.map((c) => [c.id, c.state, c.exitCode])]);

export class Pleg {
  /** When the runtime last answered a relist (0: never). */
  lastRelistAt = 0;
  private lastRelistFailed = false;
  private readonly seen = new Map<string, string>();
  /** When the last relist that reported a change of the pod answered. */
  private readonly reported = new Map<string, number>();
  /** The last answered relist: the kubelet's pod cache (its time is the schedule's freshAt). */
  private cache = new Map<string, PodRuntimeState>();
  private readonly problem: ProblemLog;
  private readonly schedule: RelistSchedule;
  private readonly now: () => number;
  /** Relists run one at a time, in this chain. */
  private chain: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;

  constructor(
    private readonly runtime: PodRuntime,
    private readonly log: Logger,
    private readonly opts: PlegOptions,
    /** Called after every relist the runtime answered, with the changes (possibly none). */
    private readonly handle: (events: PodLifecycleEvent[]) => void,
    /** Relist duration and interval, running pods and containers, the events' connection (the kubelet's PLEG metrics). */
    private readonly observer?: RelistObserver,
  ) {
    this.problem = new ProblemLog(log, "runtime relist");
    this.now = opts.now ?? (() => performance.now());
    const o: ScheduleOptions = { ...DEFAULTS, ...opts };
    this.schedule = new RelistSchedule(o, this.now());
  }

  /** The relist and, when the runtime has them, its change events, until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.relistLoop(signal), this.watch(signal)]);
  }

  /**
   * When the agent last knew the runtime's state: now while the events flow
   * and the last relist answered (relists are rare then), else the last
   * answered relist (0: never). /healthz reads it.
   */
  get healthyAt(): number {
    return this.schedule.streaming && this.lastRelistAt && !this.lastRelistFailed ? Date.now() : this.lastRelistAt;
  }

  private async relistLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const waitMs = this.schedule.dueAt() - this.now();
      if (waitMs <= 0) await this.relist();
      else await this.waitOrWake(waitMs, signal);
    }
  }

  /** Waits `ms`, or less when a change comes (this.wake) or the signal aborts. */
  private waitOrWake(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      this.wake = done;
    });
  }

  /** Follows the runtime's change events, resubscribing with backoff; returns when it has none. */
  private async watch(signal: AbortSignal): Promise<void> {
    if (!this.runtime.watchChanges || !(this.opts.eventedPeriodMs > 0)) return;
    const problem = new ProblemLog(this.log, "runtime events");
    const backoff = new Backoff(RESUBSCRIBE.initialMs, RESUBSCRIBE.maxMs);
    while (!signal.aborted) {
      let up = false;
      try {
        await this.runtime.watchChanges(signal, (c: RuntimeChange) => {
          if (c.kind === "up") {
            up = true;
            backoff.reset();
            problem.ok();
            this.observer?.connected();
            this.log.info({ relistSeconds: this.opts.eventedPeriodMs / 1000 }, "relisting on the runtime's events");
            this.schedule.streamUp(this.now());
          } else {
            this.observer?.event(c.createdAt);
            this.schedule.changed(this.now(), c.id, c.exit);
          }
          this.wake?.();
        });
      } catch (err) {
        this.observer?.connectionFailed();
        if (!up && errorCode(err) === "Unimplemented") {
          this.log.info({ relistSeconds: this.opts.periodMs / 1000 }, "the runtime has no change events; relisting every period");
          return;
        }
        if (up) {
          this.schedule.streamDown(this.now());
          this.wake?.();
        }
        const retryInMs = backoff.next();
        problem.failed(err, retryInMs);
        await sleep(retryInMs, signal);
      }
    }
  }

  /** One relist, after any in flight. */
  relist(): Promise<void> {
    this.chain = this.chain.then(() => this.relistOnce()).catch((err: unknown) => this.problem.failed(err));
    return this.chain;
  }

  private async relistOnce(): Promise<void> {
    const done = this.observer?.started();
    const began = this.now();
    this.schedule.started(began);
    let all: Map<string, PodRuntimeState>;
    try {
      all = await this.runtime.relist();
      this.problem.ok();
      this.lastRelistAt = Date.now();
      this.lastRelistFailed = false;
    } catch (err) {
      this.problem.failed(err);
      this.lastRelistFailed = true;
      this.schedule.failed(began);
      done?.();
      return;
    }
    const answeredAt = this.now();
    this.cache = all;
    this.schedule.answered(began, all);
    this.observer?.listed(all);
    const events: PodLifecycleEvent[] = [];
    for (const [uid, s] of all) {
      const key = stateKey(s);
      if (this.seen.get(uid) === key) continue;
      this.seen.set(uid, key);
      events.push({ uid, gone: false });
    }
    for (const uid of [...this.seen.keys()]) {
      if (all.has(uid)) continue;
      this.seen.delete(uid);
      events.push({ uid, gone: true });
    }
    for (const e of events) this.reported.set(e.uid, answeredAt);
    this.handle(events);
    done?.();
  }

  /**
   * The pod's runtime state from the cache, if the cache is newer than
   * `since` (performance.now()); else undefined and the caller reads the
   * runtime. As the kubelet's pod workers wait for a cache newer than their
   * last sync: everything a sync did is in a relist that began after it
   * ended (or, with events, no event came since), so an idle pod's resync
   * costs no CRI call.
   */
  newerThan(uid: string, since: number): PodRuntimeState | undefined {
    if (this.schedule.freshAt(this.now()) <= since) return undefined;
    const s = this.cache.get(uid);
    return s ? { sandboxes: [...s.sandboxes], containers: [...s.containers] } : { sandboxes: [], containers: [] };
  }

  /**
   * The pod's state when the agent already has it current, else undefined
   * (the sync reads the runtime): the cache when newer than `since`
   * (newerThan), or `own`, the last sync's final read, when no relist
   * reported a change of the pod after that read began. In a burst of
   * starts, the relist that ran during a pod's sync wakes it once more; the
   * sync's own read is newer than that relist and spares the runtime a read.
   */
  current(uid: string, since: number, own?: TimedState): TimedState | undefined {
    const at = this.now();
    const cached = this.newerThan(uid, since);
    if (cached) return { state: cached, at };
    if (own && own.at > (this.reported.get(uid) ?? -Infinity)) return { state: { sandboxes: [...own.state.sandboxes], containers: [...own.state.containers] }, at: own.at };
    return undefined;
  }

  /**
   * Every pod's state from the cache when it is no older than `maxAgeMs` (with
   * events flowing: nothing changed since), else undefined: readers that only
   * need a recent view (the log manager) share the relist instead of listing.
   */
  snapshot(maxAgeMs: number): Map<string, PodRuntimeState> | undefined {
    const now = this.now();
    const at = this.schedule.freshAt(now);
    return at >= 0 && at >= now - maxAgeMs ? this.cache : undefined;
  }

  /** The pod left this node: whatever the runtime shows of it next is news. */
  forget(uid: string): void {
    this.seen.delete(uid);
    this.reported.delete(uid);
  }

  /** The next relist reports every pod the runtime holds (the first complete pod list is in: adopt or remove them). */
  reportAll(): void {
    this.seen.clear();
  }
}
