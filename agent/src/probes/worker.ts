// One probe of one container, the kubelet's prober worker: a timer, never a
// process or a loop. It probes every period once the initial delay since the
// container's start has passed, publishes a result only when the success or
// failure threshold is reached, holds liveness and readiness back until the
// container counts as started (its startup probe passed), and after a
// liveness/startup failure waits on hold for the next container instance.
// A new container id starts from scratch, so a restarted container is never
// judged by its predecessor's runs.
import type { ProbeKind, ProbeOutcome, ProbeResult, ProbeTiming } from "./spec";

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(t: unknown): void;
}

/** Timers that never keep the process alive: stopping the agent stops them. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout),
};

export interface WorkerHost {
  clock: Clock;
  /** Runs the handler once; throws when it cannot run at all (counted as nothing). */
  probe(containerId: string): Promise<ProbeOutcome>;
  /** The container counts as started: its startup probe passed, or it has none. */
  started(containerId: string): boolean;
  /** A threshold was reached: the container's result for this probe is now `result`. */
  publish(containerId: string, result: ProbeResult): void;
  /** Every run that did not plainly succeed, for events and logs. */
  report(containerId: string, outcome: ProbeOutcome | Error): void;
}

export class ProbeWorker {
  private containerId = "";
  private startedAt = 0;
  private last: ProbeResult = "unknown";
  private run = 0;
  private onHold = false;
  private busy = false;
  private stopped = false;
  private timer: unknown;

  /** `jitterMs` delays the first probe (the kubelet spreads probes after its own restart). */
  constructor(readonly kind: ProbeKind, readonly timing: ProbeTiming, private readonly host: WorkerHost, private jitterMs = 0) {}

  get container(): string {
    return this.containerId;
  }

  /** Probe this container instance from now on. The same id again changes nothing. */
  track(containerId: string, startedAt: number): void {
    if (this.stopped || containerId === this.containerId) return;
    this.containerId = containerId;
    this.startedAt = startedAt;
    this.last = "unknown";
    this.run = 0;
    this.onHold = false;
    const now = this.host.clock.now();
    this.arm(Math.max(startedAt + this.timing.initialDelayMs, now + this.jitterMs));
    this.jitterMs = 0;
  }

  /** Probe now rather than at the next period (readiness once the startup probe passed). */
  trigger(): void {
    if (!this.stopped && !this.busy && !this.onHold && this.containerId) this.arm(this.host.clock.now());
  }

  stop(): void {
    this.stopped = true;
    this.disarm();
  }

  private disarm(): void {
    if (this.timer !== undefined) this.host.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(at: number): void {
    this.disarm();
    const delay = Math.max(0, at - this.host.clock.now());
    this.timer = this.host.clock.setTimeout(() => {
      this.timer = undefined;
      void this.tick();
    }, delay);
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.busy || this.onHold || !this.containerId) return;
    const id = this.containerId;
    const now = this.host.clock.now();
    const { periodMs, initialDelayMs } = this.timing;
    if (this.kind === "startup" && this.host.started(id)) return; // done for this instance
    if (this.kind !== "startup" && !this.host.started(id)) return this.arm(now + periodMs);
    if (now < this.startedAt + initialDelayMs) return this.arm(this.startedAt + initialDelayMs);
    this.busy = true;
    let outcome: ProbeOutcome | undefined;
    try {
      outcome = await this.host.probe(id);
    } catch (err) {
      this.host.report(id, err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.busy = false;
    }
    // Stopped, or another instance took over while this one ran (track() re-armed).
    if (this.stopped || id !== this.containerId) return;
    if (outcome) this.count(id, outcome);
    if (!this.onHold) this.arm(now + periodMs);
  }

  private count(id: string, outcome: ProbeOutcome): void {
    if (outcome.result !== "success") this.host.report(id, outcome);
    const result: ProbeResult = outcome.result === "failure" ? "failure" : "success"; // a warning succeeds
    if (result === this.last) this.run++;
    else {
      this.last = result;
      this.run = 1;
    }
    const threshold = result === "failure" ? this.timing.failureThreshold : this.timing.successThreshold;
    if (this.run < threshold) return;
    this.host.publish(id, result);
    if (result === "failure" && this.kind !== "readiness") {
      // The container will be killed: no more runs until the next instance.
      this.onHold = true;
      this.run = 0;
    }
  }
}
