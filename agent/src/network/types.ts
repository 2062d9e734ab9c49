// The pod network seam. The pod controller calls it after RunPodSandbox and
// before RemovePodSandbox; what plumbs the network is behind it.
import type { PodIdentity, SandboxInfo } from "../runtime/types";

export interface PodNetwork {
  /** Attaches the sandbox to the pod network; returns the pod IPs. Idempotent. */
  setUp(pod: PodIdentity, annotations: Record<string, string>, sandbox: SandboxInfo): Promise<string[]>;
  /** Releases everything setUp made. Idempotent; succeeds for unknown sandboxes. */
  tearDown(pod: PodIdentity, sandboxId: string, netnsPath: string): Promise<void>;
}
