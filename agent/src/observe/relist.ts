// What the relist (pods/pleg.ts) reports to metrics, as the kubelet's generic
// PLEG does: how long each relist took and how long since the previous one
// started (a wedged or slow runtime shows in both), and what the runtime
// holds once it answered (kubelet_running_pods, kubelet_running_containers);
// and, as the kubelet's evented PLEG, its change events' connection and delay.
import type { ContainerRunState, PodRuntimeState } from "../runtime/types";
import type { KubeletMetrics } from "./kubelet-metrics";

const STATES: readonly ContainerRunState[] = ["created", "running", "exited", "unknown"];

export class RelistObserver {
  private lastStart: number | undefined;

  constructor(private readonly m: KubeletMetrics, private readonly now: () => number = () => performance.now()) {}

  /** At the start of a relist (answered or not); returns what to call at its end. */
  started(): () => void {
    const t = this.now();
    if (this.lastStart !== undefined) this.m.plegRelistInterval.observe((t - this.lastStart) / 1000);
    this.lastStart = t;
    return () => this.m.plegRelistDuration.observe((this.now() - t) / 1000);
  }

  /** The runtime's change events are up (kubelet_evented_pleg_connection_success_count). */
  connected(): void {
    this.m.eventedPlegConnections.inc();
  }

  /** Subscribing to them failed, or they dropped (kubelet_evented_pleg_connection_error_count). */
  connectionFailed(): void {
    this.m.eventedPlegConnectionErrors.inc();
  }

  /** An event arrived: its age, from the runtime's timestamp (`createdAt`, ms since epoch), as the kubelet measures it. */
  event(createdAt: number, now = Date.now()): void {
    this.m.eventedPlegConnectionLatency.observe(Math.max(0, now - createdAt) / 1000);
  }

  /** What a relist the runtime answered found: pods with a ready sandbox, containers by state. */
  listed(all: ReadonlyMap<string, PodRuntimeState>): void {
    let pods = 0;
    const byState = new Map<ContainerRunState, number>(STATES.map((s) => [s, 0]));
    for (const s of all.values()) {
      if (s.sandboxes.some((x) => x.ready)) pods++;
      for (const c of s.containers) byState.set(c.state, (byState.get(c.state) ?? 0) + 1);
    }
    this.m.runningPods.set(pods);
    for (const [state, n] of byState) this.m.runningContainers.set({ container_state: state }, n);
  }
}
