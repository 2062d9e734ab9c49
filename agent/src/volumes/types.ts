// The volume seam: the pod controller asks for host paths before it starts
// containers and releases them once the pod's sandbox is gone.
import type { Container, Pod, Volume } from "@plasmacloud/proto/k8shost";
import type { ContainerRequest } from "../runtime/types";

export interface PodVolumes {
  /** Why this node cannot serve the volume, or undefined when it can. */
  unsupported(v: Volume): string | undefined;
  /** Prepares every volume; returns volume name -> host path. Idempotent. */
  setUp(pod: Pod): Promise<Map<string, string>>;
  /** The CRI mounts for one container. */
  mounts(pod: Pod, c: Container, paths: Map<string, string>): Promise<ContainerRequest["mounts"]>;
  /** Releases everything setUp made for the pod. Idempotent. */
  tearDown(uid: string): Promise<void>;
}
