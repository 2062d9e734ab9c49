// When the relist (pleg.ts) runs, and how fresh its cache counts, with and
// without the runtime's change events. Pure bookkeeping on a clock the caller
// passes in (performance.now() in the agent), so it is tested without timers.
//
// Without events: the kubelet's generic PLEG, a relist every period; the cache
// is as fresh as the last relist's start.
// With events (the kubelet's evented PLEG): a change asks for a relist
// minGapMs after it, but no sooner than a generic period after the previous
// one (a burst costs no more relists than without events); otherwise a relist
// only every eventedPeriodMs. containerd's events
// run ahead of CRI's view (a /tasks/exit arrives 40-350 ms before
// ListContainers shows the container exited), so every change also gets a
// second look one generic period later, and an exit is looked at again each
// period until CRI shows the container or sandbox stopped. While the stream
// is up and nothing is pending, nothing changed since the last relist: the
// cache counts as fresh as of now minus freshMarginMs (events reach us a
// little after the CRI call that caused them), as the kubelet's evented PLEG
// moves its cache's timestamp to now every second (cache.UpdateTime).
import type { PodRuntimeState } from "../runtime/types";

export interface ScheduleOptions {
  /** The generic relist period (runtime.relistSeconds). */
  periodMs: number;
  /** With events flowing: the relist's period when nothing changes (runtime.eventedRelistSeconds). */
  eventedPeriodMs: number;
  /** Least time from a change to the relist it asks for (and a generic period from the previous relist). */
  minGapMs: number;
  /** How far back from now the cache counts as fresh while the stream is up. */
  freshMarginMs: number;
  /** An exit CRI has not shown by then is given up on (the periodic relist still comes). */
  exitWaitMs: number;
}

export class RelistSchedule {
  private up = false;
  /** Start of the last relist (answered or not). */
  private lastStart: number;
  /** Start of the last answered relist: what the cache holds is as of then. */
  private cacheAt = -1;
  /** The first change no relist has started after yet. */
  private pendingSince: number | undefined;
  /** The last change (or stream up/down): a cache from before it is not fresh. */
  private lastChange = -Infinity;
  private secondLookAt: number | undefined;
  /** Exits CRI has not shown yet: container or sandbox id -> when to give up. */
  private readonly exits = new Map<string, number>();

  /** `now`: the first periodic relist is a period after it. */
  constructor(private readonly o: ScheduleOptions, now: number) {
    this.lastStart = now;
  }

  get streaming(): boolean {
    return this.up;
  }

  /** The events are up: what happened before them is unknown, so relist. */
  streamUp(now: number): void {
    this.up = true;
    this.change(now);
  }

  /** The events dropped: relist now, then every generic period. */
  streamDown(now: number): void {
    this.up = false;
    this.exits.clear();
    this.secondLookAt = undefined;
    this.change(now);
  }

  /** Something changed in the runtime; `exit`: the process of container or sandbox `id` exited. */
  changed(now: number, id: string, exit: boolean): void {
    this.change(now);
    this.secondLookAt = now + this.o.periodMs;
    if (exit && id) this.exits.set(id, now + this.o.exitWaitMs);
  }

  private change(now: number): void {
    this.pendingSince ??= now;
    this.lastChange = now;
  }

  /** A relist starts now: it covers every change so far. */
  started(now: number): void {
    this.lastStart = now;
    this.pendingSince = undefined;
    if (this.secondLookAt !== undefined && this.secondLookAt <= now) this.secondLookAt = undefined;
  }

  /** The relist begun at `startedAt` answered `all`. */
  answered(startedAt: number, all: ReadonlyMap<string, PodRuntimeState>): void {
    this.cacheAt = startedAt;
    if (this.exits.size === 0) return;
    const running = new Set<string>();
    for (const s of all.values()) {
      for (const x of s.sandboxes) if (x.ready) running.add(x.id);
      for (const c of s.containers) if (c.state === "running") running.add(c.id);
    }
    for (const [id, until] of this.exits) if (!running.has(id) || startedAt >= until) this.exits.delete(id);
    if (this.exits.size > 0) this.lookAgain(startedAt);
  }

  /** The relist begun at `startedAt` failed: the changes it was to cover wait a generic period. */
  failed(startedAt: number): void {
    if (this.up) this.lookAgain(startedAt);
  }

  private lookAgain(from: number): void {
    const at = from + this.o.periodMs;
    this.secondLookAt = this.secondLookAt === undefined ? at : Math.min(this.secondLookAt, at);
  }

  /** When the next relist is due (may be in the past: now). */
  dueAt(): number {
    const periodic = this.lastStart + (this.up ? this.o.eventedPeriodMs : this.o.periodMs);
    // Never more often than the generic relist: in a burst of pod starts every relist (and the statuses it
    // fetches) competes with the starts for containerd; 100 ms apart made the agent's CRI reads per started pod
    // rise from 2.8 to 3.9 lists and 1.5 to 5.4 ContainerStatus, and its 30-pod p99 with them.
    const asked = this.pendingSince === undefined ? Infinity : Math.max(this.lastStart + this.o.periodMs, this.pendingSince + this.o.minGapMs);
    return Math.min(periodic, asked, this.secondLookAt ?? Infinity);
  }

  /** As of when the cache holds the runtime's state (-1: no answered relist yet). */
  freshAt(now: number): number {
    const settled = this.up && this.lastChange < this.cacheAt && this.secondLookAt === undefined && this.exits.size === 0;
    return settled ? Math.max(this.cacheAt, now - this.o.freshMarginMs) : this.cacheAt;
  }
}
