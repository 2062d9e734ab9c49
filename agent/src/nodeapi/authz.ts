// Authorization and targets of node API requests. A caller reaches a pod only
// when the pod is in the caller's tenant and bound to this node; anything else
// (another tenant's pod, another node's, no such pod, a caller of no tenant)
// answers the same 404 that names only what the caller asked for, so nothing
// about other tenants leaks (the platform's rule; the kubelet asks the API
// server's SubjectAccessReview instead). The pod comes from the control plane,
// read with the node's credentials in the caller's tenant, so a pod the node
// authorizer does not let this node see is never found either.
import { CodedError, errorCode, errorMessage } from "@plasmacloud/common/errors";
import { GetPodRequest, type Container, type Pod } from "@plasmacloud/proto/k8shost";
import type { ControlPlane } from "../controlplane/client";
import type { PodRuntime } from "../runtime/types";
import type { Caller } from "./authn";
import type { PodRef } from "./paths";

export type PodLookup = (ref: { orgId: string; projectId: string; namespace: string; name: string }) => Promise<Pod | undefined>;

export function controlPlanePods(cp: ControlPlane): PodLookup {
  return async (ref) => {
    try {
      return await cp.call("GetPod", cp.pods.getPod.bind(cp.pods), GetPodRequest.fromPartial({ ref }));
    } catch (err) {
      if (errorCode(err) === "NotFound") return undefined;
      throw err;
    }
  };
}

/** Kubernetes' message for a pod that is not there, with nothing but the name asked for. */
export const podNotFound = (name: string): CodedError => new CodedError("NotFound", `pods "${name}" not found`);

/** The pod `ref` names, if `caller` may reach it on this node; else NotFound (Unavailable when it cannot be looked up). */
export async function authorizedPod(caller: Caller, ref: PodRef, nodeName: string, lookup: PodLookup): Promise<Pod> {
  if (!caller.orgId || !caller.projectId) throw podNotFound(ref.pod);
  let pod: Pod | undefined;
  try {
    pod = await lookup({ orgId: caller.orgId, projectId: caller.projectId, namespace: ref.namespace, name: ref.pod });
  } catch (err) {
    throw new CodedError("Unavailable", `cannot look up pod "${ref.pod}" now: ${errorMessage(err)}`);
  }
  const m = pod?.metadata;
  // The lookup was scoped to the caller's tenant already; these checks hold even if it were not.
  if (!pod || !m || pod.spec?.nodeName !== nodeName || m.orgId !== caller.orgId || m.projectId !== caller.projectId) throw podNotFound(ref.pod);
  if ((m.namespace || "default") !== ref.namespace || (ref.uid && m.uid !== ref.uid)) throw podNotFound(ref.pod);
  return pod;
}

/** The container's spec (app, init or sidecar), or NotFound as the kubelet answers. */
export function containerSpec(pod: Pod, name: string): Container {
  const c = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((x) => x.name === name);
  if (!c) throw new CodedError("NotFound", `container "${name}" not found in pod "${pod.metadata?.name ?? ""}"`);
  return c;
}

/** The id of the container's running instance (the latest attempt), or InvalidArgument. */
export async function runningContainer(runtime: Pick<PodRuntime, "podState">, pod: Pod, name: string): Promise<string> {
  const state = await runtime.podState(pod.metadata!.uid);
  const running = state.containers.filter((c) => c.name === name && c.state === "running").sort((a, b) => b.attempt - a.attempt);
  if (!running[0]) throw new CodedError("InvalidArgument", `container "${name}" in pod "${pod.metadata!.name}" is not running`);
  return running[0].id;
}

/** The pod's ready sandbox (the newest), or InvalidArgument. */
export async function readySandbox(runtime: Pick<PodRuntime, "podState">, pod: Pod): Promise<string> {
  const state = await runtime.podState(pod.metadata!.uid);
  const ready = state.sandboxes.filter((s) => s.ready).sort((a, b) => b.createdAt - a.createdAt);
  if (!ready[0]) throw new CodedError("InvalidArgument", `pod "${pod.metadata!.name}" has no running sandbox`);
  return ready[0].id;
}
