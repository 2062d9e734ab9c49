// The metrics an operator compares with a kubelet node, with the kubelet's
// semantics, label names and buckets (pkg/kubelet/metrics/metrics.go); the
// names keep our prefix: kubelet_X is k8shost_agent_X. The README lists them.
import { Counter, Gauge, Histogram, exponentialBuckets, type Registry } from "prom-client";

/** The kubelet's podStartupDurationBuckets: round numbers for SLOs ("x % of pods start within 30 s"). */
export const POD_START_BUCKETS = [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600];
/** Prometheus' DefBuckets, which the kubelet's pod worker and PLEG histograms use. */
export const DEF_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** The kubelet's runtime operation buckets: ExponentialBuckets(.005, 2.5, 14), 5 ms to ~7.5 min. */
export const RUNTIME_OPERATION_BUCKETS = exponentialBuckets(0.005, 2.5, 14);

export class KubeletMetrics {
  readonly podStartSLIDuration: Histogram<"first_with_network">;
  readonly podStartTotalDuration: Histogram<"first_with_network">;
  readonly podWorkerDuration: Histogram<"operation_type">;
  readonly plegRelistDuration: Histogram;
  readonly plegRelistInterval: Histogram;
  readonly eventedPlegConnectionErrors: Counter;
  readonly eventedPlegConnections: Counter;
  readonly eventedPlegConnectionLatency: Histogram;
  readonly runtimeOperations: Counter<"operation_type">;
  readonly runtimeOperationsDuration: Histogram<"operation_type">;
  readonly runtimeOperationsErrors: Counter<"operation_type">;
  readonly runningPods: Gauge;
  readonly runningContainers: Gauge<"container_state">;

  constructor(registry: Registry) {
    const registers = [registry];
    this.podStartSLIDuration = new Histogram({
      name: "k8shost_agent_pod_start_sli_duration_seconds",
      help: "Duration in seconds to start a pod, excluding time to pull images, from the agent first seeing it to the control plane accepting a status with all its containers running",
      labelNames: ["first_with_network"],
      buckets: POD_START_BUCKETS,
      registers,
    });
    this.podStartTotalDuration = new Histogram({
      name: "k8shost_agent_pod_start_total_duration_seconds",
      help: "Duration in seconds to start a pod, including time to pull images, from the agent first seeing it to the control plane accepting a status with all its containers running",
      labelNames: ["first_with_network"],
      buckets: POD_START_BUCKETS,
      registers,
    });
    this.podWorkerDuration = new Histogram({
      name: "k8shost_agent_pod_worker_duration_seconds",
      help: "Duration in seconds to sync a single pod, from the work being queued. Broken down by operation type: create, update, sync, kill, terminated",
      labelNames: ["operation_type"],
      buckets: DEF_BUCKETS,
      registers,
    });
    this.plegRelistDuration = new Histogram({ name: "k8shost_agent_pleg_relist_duration_seconds", help: "Duration in seconds for relisting pods in PLEG.", buckets: DEF_BUCKETS, registers });
    this.plegRelistInterval = new Histogram({ name: "k8shost_agent_pleg_relist_interval_seconds", help: "Interval in seconds between relisting in PLEG.", buckets: DEF_BUCKETS, registers });
    // The evented PLEG's (on containerd's own events here; see pods/pleg.ts).
    this.eventedPlegConnectionErrors = new Counter({
      name: "k8shost_agent_evented_pleg_connection_error_count",
      help: "The number of errors encountered during the establishment of streaming connection with the CRI runtime.",
      registers,
    });
    this.eventedPlegConnections = new Counter({ name: "k8shost_agent_evented_pleg_connection_success_count", help: "The number of times a streaming client was obtained to receive CRI Events.", registers });
    this.eventedPlegConnectionLatency = new Histogram({
      name: "k8shost_agent_evented_pleg_connection_latency_seconds",
      help: "The latency of streaming connection with the CRI runtime, measured in seconds.",
      buckets: DEF_BUCKETS,
      registers,
    });
    this.runtimeOperations = new Counter({ name: "k8shost_agent_runtime_operations_total", help: "Cumulative number of runtime operations by operation type.", labelNames: ["operation_type"], registers });
    this.runtimeOperationsDuration = new Histogram({
      name: "k8shost_agent_runtime_operations_duration_seconds",
      help: "Duration in seconds of runtime operations. Broken down by operation type.",
      labelNames: ["operation_type"],
      buckets: RUNTIME_OPERATION_BUCKETS,
      registers,
    });
    this.runtimeOperationsErrors = new Counter({ name: "k8shost_agent_runtime_operations_errors_total", help: "Cumulative number of runtime operation errors by operation type.", labelNames: ["operation_type"], registers });
    this.runningPods = new Gauge({ name: "k8shost_agent_running_pods", help: "Number of pods that have a running pod sandbox", registers });
    this.runningContainers = new Gauge({ name: "k8shost_agent_running_containers", help: "Number of containers currently running", labelNames: ["container_state"], registers });
  }
}
