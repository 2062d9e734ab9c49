// The seam through which the pod loops report what happened to a pod, as the
// kubelet's record.EventRecorder. The recorder behind it aggregates repeats and
// rate-limits before anything reaches the control plane; callers fire and forget.
import type { Pod } from "@plasmacloud/proto/k8shost";

export type EventType = "Normal" | "Warning";

export interface PodEvents {
  /**
   * One event about `pod`. `fieldPath` names the container as the kubelet does
   * (`spec.containers{web}`, `spec.initContainers{init}`); "" for the pod.
   * Never throws and never waits on the network.
   */
  emit(pod: Pod, type: EventType, reason: string, message: string, fieldPath?: string): void;
}

/** Events about this node itself (Starting, NodeReady, NodeNotReady, ...), as the kubelet's nodeRef. */
export interface NodeEvents {
  /** Never throws and never waits on the network. */
  emitNode(type: EventType, reason: string, message: string): void;
}

/** For code paths (and unit tests) that report nowhere. */
export const noEvents: PodEvents = { emit: () => undefined };

/** The kubelet's field path for a container of the pod. */
export function containerFieldPath(pod: Pod, container: string): string {
  const init = pod.spec?.initContainers.some((c) => c.name === container) ?? false;
  return `${init ? "spec.initContainers" : "spec.containers"}{${container}}`;
}
