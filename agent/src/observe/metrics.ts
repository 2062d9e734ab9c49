// Prometheus metrics of the agent, on its own registry (no global state).
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { KubeletMetrics } from "./kubelet-metrics";
import { registerProcessMetrics } from "./process-metrics";

export class AgentMetrics {
  readonly registry = new Registry();
  /** The kubelet's own metrics, same semantics (kubelet-metrics.ts; the README maps the names). */
  readonly kubelet = new KubeletMetrics(this.registry);
  readonly podsByPhase = new Gauge({ name: "k8shost_agent_pods", help: "Pods on this node by phase", labelNames: ["phase"], registers: [this.registry] });
  readonly podStartLatency = new Histogram({
    name: "k8shost_agent_pod_start_latency_seconds",
    help: "From the pod first seen by the agent to all its containers running (the kubelet's pod_start_duration_seconds)",
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  readonly syncErrors = new Counter({ name: "k8shost_agent_sync_errors_total", help: "Pod syncs that ended in an error", labelNames: ["reason"], registers: [this.registry] });
  readonly criLatency = new Histogram({
    name: "k8shost_agent_cri_call_duration_seconds",
    help: "CRI call latency",
    labelNames: ["method"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
    registers: [this.registry],
  });
  readonly criErrors = new Counter({ name: "k8shost_agent_cri_errors_total", help: "CRI calls that failed", labelNames: ["method", "code"], registers: [this.registry] });
  readonly eventsDropped = new Counter({
    name: "k8shost_agent_events_dropped_total",
    help: "Events never sent to the control plane: queue_full, spam (rate-limited), rejected, unavailable (retries exhausted)",
    labelNames: ["reason"],
    registers: [this.registry],
  });
  readonly controlPlaneErrors = new Counter({ name: "k8shost_agent_control_plane_errors_total", help: "Control-plane calls that failed", labelNames: ["method", "code"], registers: [this.registry] });
  private lastHeartbeat = 0;
  readonly sinceHeartbeat = new Gauge({
    name: "k8shost_agent_seconds_since_last_heartbeat",
    help: "Seconds since the last heartbeat the control plane accepted (-1: none yet)",
    registers: [this.registry],
    collect: () => {
      this.sinceHeartbeat.set(this.lastHeartbeat ? (Date.now() - this.lastHeartbeat) / 1000 : -1);
    },
  });

  constructor() {
    registerProcessMetrics([this.registry]);
  }

  heartbeatAccepted(at = Date.now()): void {
    this.lastHeartbeat = at;
  }
}
