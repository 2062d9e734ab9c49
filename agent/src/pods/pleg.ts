// The relist (the kubelet's PLEG, pod lifecycle event generator): every
// period, list what the runtime holds for this node and report the pods whose
// sandboxes or containers changed since the previous list. The pod controller
// wakes exactly those pods; a relist that fails is logged once, not per tick.
import type { Logger } from "@plasmacloud/common/log";
import type { RelistObserver } from "../observe/relist";
import { sleep } from "../retry/backoff";
import { ProblemLog } from "../retry/problem";
import type { PodRuntime, PodRuntimeState } from "../runtime/types";

export interface PodLifecycleEvent {
  uid: string;
  /** The runtime holds nothing of the pod any more. */
  gone: boolean;
}

/** What a relist compares: identity and state of each sandbox and container. */
const stateKey = (s: PodRuntimeState): string =>
  JSON.stringify([s.sandboxes.map((x) => [x.id, x.ready]), s.containers.map((c) => [c.id, c.state, c.exitCode])]);

export class Pleg {
  /** When the runtime last answered a relist (0: never); /healthz reads it. */
  lastRelistAt = 0;
  private readonly seen = new Map<string, string>();
  /** The last answered relist and when it began (performance.now()): the kubelet's pod cache. */
  private cache = new Map<string, PodRuntimeState>();
  private cacheAt = -1;
  private readonly problem: ProblemLog;

  constructor(
    private readonly runtime: PodRuntime,
    log: Logger,
    private readonly periodMs: number,
    /** Called after every relist the runtime answered, with the changes (possibly none). */
    private readonly handle: (events: PodLifecycleEvent[]) => void,
    /** Relist duration and interval, running pods and containers (the kubelet's PLEG metrics). */
    private readonly observer?: RelistObserver,
  ) {
    this.problem = new ProblemLog(log, "runtime relist");
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await sleep(this.periodMs, signal);
      if (!signal.aborted) await this.relist();
    }
  }

  async relist(): Promise<void> {
    const done = this.observer?.started();
    let all: Map<string, PodRuntimeState>;
    const began = performance.now();
    try {
      all = await this.runtime.relist();
      this.problem.ok();
      this.lastRelistAt = Date.now();
    } catch (err) {
      this.problem.failed(err);
      done?.();
      return;
    }
    this.cache = all;
    this.cacheAt = began;
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
    this.handle(events);
    done?.();
  }

  /**
   * The pod's runtime state from the last relist, if that relist began after
   * `since` (performance.now()); else undefined and the caller reads the
   * runtime. As the kubelet's pod workers wait for a cache newer than their
   * last sync: everything a sync did is in a relist that began after it
   * ended, so an idle pod's resync costs no CRI call.
   */
  newerThan(uid: string, since: number): PodRuntimeState | undefined {
    if (this.cacheAt <= since) return undefined;
    const s = this.cache.get(uid);
    return s ? { sandboxes: [...s.sandboxes], containers: [...s.containers] } : { sandboxes: [], containers: [] };
  }

  /** The pod left this node: whatever the runtime shows of it next is news. */
  forget(uid: string): void {
    this.seen.delete(uid);
  }
}
