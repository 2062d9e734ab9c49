// The pod network seam. The pod controller asks it what to stamp on a new
// sandbox, for the pod's IPs once the sandbox runs, to verify a running
// attachment now and then, and to collect attachments of vanished sandboxes.
import type { PodIdentity, SandboxInfo } from "../runtime/types";

export interface PodNetwork {
  /** Sandbox annotations the network needs (tenant, subnet); throws when the pod cannot be attached. */
  sandboxAnnotations(pod: PodIdentity, podAnnotations: Record<string, string>): Record<string, string>;
  /** The pod IPs of a running sandbox. */
  setUp(pod: PodIdentity, annotations: Record<string, string>, sandbox: SandboxInfo): Promise<string[]>;
  /** Verifies a running attachment still matches; throws when it is broken. */
  check?(pod: PodIdentity, annotations: Record<string, string>, sandbox: SandboxInfo, ips: string[]): Promise<void>;
  /** Releases what setUp made, if the runtime does not. Idempotent. */
  tearDown(pod: PodIdentity, sandboxId: string, netnsPath: string): Promise<void>;
  /** Releases attachments of every sandbox not in `validSandboxIds`. */
  gc?(validSandboxIds: string[]): Promise<void>;
}
