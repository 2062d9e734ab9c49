// The volume seam: the pod controller asks for host paths before it starts
// containers and releases them once the pod's sandbox is gone.
import type { Container, Pod, Volume } from "@plasmacloud/proto/k8shost";
import { CodedError, type Context, type ErrorCode } from "@plasmacloud/common/errors";
import type { ContainerRequest } from "../runtime/types";
import type { PodHosts } from "./etc-hosts";

export interface PodVolumes {
  /** Why this node cannot serve the volume, or undefined when it can. */
  unsupported(v: Volume): string | undefined;
  /** Prepares every volume; returns volume name -> host path. Idempotent. Throws VolumeError when a volume is not ready yet. */
  setUp(pod: Pod): Promise<Map<string, string>>;
  /** The CRI mounts for one container. Throws VolumeError for a bad subPath. */
  mounts(pod: Pod, c: Container, paths: Map<string, string>): Promise<ContainerRequest["mounts"]>;
  /** The pod's managed /etc/hosts as one container's mount, or undefined when the container gets none. */
  hostsMount(uid: string, c: Container, hosts: PodHosts): Promise<ContainerRequest["mounts"][number] | undefined>;
  /** Releases everything setUp made for the pod. Idempotent. */
  tearDown(uid: string): Promise<void>;
}

/**
 * A volume that cannot be set up now: `reason` is what the pod's status shows
 * (FailedMount, CreateContainerConfigError), retried after `retryInMs`.
 */
export class VolumeError extends CodedError {
  constructor(
    code: ErrorCode,
    readonly reason: string,
    message: string,
    readonly retryInMs: number,
    context: Context = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, context, options);
    this.name = "VolumeError";
  }
}
