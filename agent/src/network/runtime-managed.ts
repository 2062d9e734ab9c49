// The runtime plumbs the network itself (its own CNI config): the IP is what
// the sandbox status reports, and StopPodSandbox releases it.
import { CodedError } from "@plasmacloud/common/errors";
import type { PodIdentity, SandboxInfo } from "../runtime/types";
import type { PodNetwork } from "./types";

export class RuntimeManagedNetwork implements PodNetwork {
  sandboxAnnotations(_pod: PodIdentity, _podAnnotations: Record<string, string>): Record<string, string> {
    return {};
  }

  async setUp(pod: PodIdentity, _annotations: Record<string, string>, sandbox: SandboxInfo): Promise<string[]> {
    if (sandbox.netnsPath && !sandbox.ip) {
      throw new CodedError("Unavailable", `sandbox ${sandbox.id} of pod ${pod.namespace}/${pod.name} has no IP from the runtime's network`, { sandbox: sandbox.id });
    }
    return sandbox.ip ? [sandbox.ip] : [];
  }

  async tearDown(): Promise<void> {}
}
