// Labels that tie runtime objects to pods. The io.kubernetes.* keys are the
// kubelet's (so crictl and other tools show the pod); ours add node and tenant
// so a restarted agent re-adopts exactly its own sandboxes.
import { TenantKeys } from "@plasmacloud/proto/annotations";

export const L = {
  podUid: "io.kubernetes.pod.uid",
  podName: "io.kubernetes.pod.name",
  podNamespace: "io.kubernetes.pod.namespace",
  containerName: "io.kubernetes.container.name",
  managedBy: "plasmacloud.io/managed-by",
  node: "plasmacloud.io/node",
  orgId: TenantKeys.orgId,
  projectId: TenantKeys.projectId,
} as const;

export const MANAGER = "k8shost-agent";

export function nodeSelector(nodeName: string): Record<string, string> {
  return { [L.managedBy]: MANAGER, [L.node]: nodeName };
}
