// The pod's containers as the kubelet walks them: init containers first (in
// order), then the app containers. An init container with restartPolicy
// "Always" is a native sidecar: it starts in init order and keeps running.
// Every rule that must hold for each container (validation, the node's
// security policy, QoS, ports) walks this list, so an init container is never
// the way around a check.
import type { Container, PodSpec } from "@plasmacloud/proto/k8shost";

export type ContainerKind = "init" | "sidecar" | "app";

export interface SpecContainer {
  c: Container;
  kind: ContainerKind;
  /** Its field path: `spec.initContainers[0]`, `spec.containers[1]`. */
  field: string;
}

export const isSidecar = (c: Container): boolean => c.restartPolicy === "Always";

export function specContainers(spec: PodSpec): SpecContainer[] {
  return [
    ...spec.initContainers.map((c, i): SpecContainer => ({ c, kind: isSidecar(c) ? "sidecar" : "init", field: `spec.initContainers[${i}]` })),
    ...spec.containers.map((c, i): SpecContainer => ({ c, kind: "app", field: `spec.containers[${i}]` })),
  ];
}

/** Every container of the spec, init containers first. */
export const allContainers = (spec: PodSpec): Container[] => [...spec.initContainers, ...spec.containers];

/** The containers that run beside the app containers once the pod is initialized: sidecars and apps. */
export const longRunning = (spec: PodSpec): Container[] => [...spec.initContainers.filter(isSidecar), ...spec.containers];
