// Which container instance's log a request means, from the pod object: the API
// server's container-name rules (pkg/registry/core/pod LogLocation) and the
// kubelet's choice of instance (validateContainerLogStatus), with their messages.
// The instance's restart number names its file in the log layout.
import type { ContainerStatus, Pod } from "@plasmacloud/proto/k8shost";
import { CodedError } from "@plasmacloud/common/errors";

export interface LogTarget {
  container: string;
  /** The instance's restart number: its file is <container>/<attempt>.log. */
  attempt: number;
  /** "containerd://<id>" as the pod status shows it. */
  containerId: string;
  /** The instance is the container's latest (a follow may wait on it while it runs). */
  latest: boolean;
}

const bad = (msg: string): CodedError => new CodedError("InvalidArgument", msg);

/** The container a request names, or the pod's only container (the API server's validateContainer). */
export function containerName(pod: Pod, container: string | undefined): string {
  const spec = pod.spec;
  const name = pod.metadata?.name ?? "";
  const all = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].map((c) => c.name);
  if (container) {
    if (!all.includes(container)) throw bad(`container ${container} is not valid for pod ${name}`);
    return container;
  }
  const containers = spec?.containers ?? [];
  if (containers.length === 1) return containers[0]!.name;
  if (containers.length === 0) throw bad(`a container name must be specified for pod ${name}`);
  throw bad(`a container name must be specified for pod ${name}, choose one of: [${all.join(" ")}]`);
}

/** The instance whose log to read: the current one, or with `previous` the last terminated one. */
export function logTarget(pod: Pod, container: string, previous: boolean): LogTarget {
  const podName = pod.metadata?.name ?? "";
  const st = pod.status;
  const cs = [...(st?.containerStatuses ?? []), ...(st?.initContainerStatuses ?? [])].find((s) => s.name === container);
  if (!cs) throw new CodedError("NotFound", `container "${container}" in pod "${podName}" is not available`);
  const last = cs.lastState?.terminated;
  if (previous) {
    if (!last?.containerId) throw new CodedError("NotFound", `previous terminated container "${container}" in pod "${podName}" not found`);
    return instance(cs, last.containerId);
  }
  const { running, terminated, waiting } = cs.state ?? {};
  if (running) return instance(cs, cs.containerId);
  if (terminated) {
    if (terminated.containerId) return instance(cs, terminated.containerId);
    // The next instance did not start: the last one's log.
    if (last?.containerId) return instance(cs, last.containerId);
    throw bad(`container "${container}" in pod "${podName}" is terminated`);
  }
  if (last) {
    if (!last.containerId) throw bad(`container "${container}" in pod "${podName}" is terminated`);
    return instance(cs, last.containerId);
  }
  if (waiting) {
    const why =
      waiting.reason === "ErrImagePull" ? "image can't be pulled" : waiting.reason === "ImagePullBackOff" ? "trying and failing to pull image" : waiting.reason;
    throw bad(`container "${container}" in pod "${podName}" is waiting to start: ${why}`);
  }
  throw bad(`container "${container}" in pod "${podName}" is waiting to start - no logs yet`);
}

/**
 * The status names two instances at most: the latest (containerId, restartCount
 * = its attempt) and the one before it (lastState), whose attempt is one less:
 * an instance is only replaced by the next attempt number.
 */
function instance(cs: ContainerStatus, containerId: string): LogTarget {
  const latest = containerId === cs.containerId;
  return { container: cs.name, attempt: latest ? cs.restartCount : cs.restartCount - 1, containerId, latest };
}

/** Whether the pod status shows this instance still running (a follow ends once it is not). */
export function instanceRunning(pod: Pod | undefined, t: LogTarget): boolean {
  const st = pod?.status;
  const cs = [...(st?.containerStatuses ?? []), ...(st?.initContainerStatuses ?? [])].find((s) => s.name === t.container);
  return !!cs?.state?.running && cs.containerId === t.containerId;
}
