// What the init containers allow next, from the runtime's view of the pod's
// current sandbox: the kubelet's computeInitContainerActions, as a pure
// function so the sync loop stays level-triggered (an agent restarted at any
// point finds the same answer from the same containers).
import type { Container, PodSpec } from "@plasmacloud/proto/k8shost";
import type { ContainerInfo } from "../runtime/types";
import { isSidecar } from "./containers";

export type RestartPolicy = "Always" | "OnFailure" | "Never";

export interface InitPlan {
  /** Sidecars already passed: kept running (restarted when they exit) while the rest proceeds. */
  keep: Container[];
  /** The init container to work on now: start it, restart it, or wait for it. */
  next: Container | undefined;
  /** Every init container is done: regular ones exited 0, sidecars started. */
  done: boolean;
  /** A regular init container failed and the pod's policy is Never: the pod fails. */
  failed: Container | undefined;
}

/** Newest instance of a container in the current sandbox. */
export type Newest = (name: string) => ContainerInfo | undefined;

export function podRestartPolicy(spec: PodSpec): RestartPolicy {
  return (spec.restartPolicy || "Always") as RestartPolicy;
}

/** How a container restarts: sidecars always; regular init containers on failure unless the pod says Never. */
export function restartPolicyOf(spec: PodSpec, c: Container, init: boolean): RestartPolicy {
  const pod = podRestartPolicy(spec);
  if (!init) return pod;
  if (isSidecar(c)) return "Always";
  return pod === "Never" ? "Never" : "OnFailure";
}

/**
 * `started` says whether a running sidecar counts as started (its startup
 * probe passed, if it has one): the next init container waits for that.
 */
export function initPlan(spec: PodSpec, newest: Newest, started: (c: Container, info: ContainerInfo) => boolean): InitPlan {
  const keep: Container[] = [];
  for (const c of spec.initContainers) {
    const latest = newest(c.name);
    if (isSidecar(c)) {
      if (latest?.state === "running" && started(c, latest)) {
        keep.push(c);
        continue;
      }
      return { keep, next: c, done: false, failed: undefined };
    }
    if (latest?.state === "exited" && latest.exitCode === 0) continue;
    if (latest?.state === "exited" && podRestartPolicy(spec) === "Never") return { keep, next: undefined, done: false, failed: c };
    return { keep, next: c, done: false, failed: undefined };
  }
  return { keep, next: undefined, done: true, failed: undefined };
}

/**
 * The app containers have all exited for good (none will be restarted): the
 * pod is complete, and its sidecars are stopped, in reverse order, rather than
 * kept or restarted (a sidecar never keeps a Never or OnFailure pod running).
 */
export function appsFinished(spec: PodSpec, newest: Newest): boolean {
  const policy = podRestartPolicy(spec);
  if (policy === "Always") return false;
  return spec.containers.every((c) => {
    const latest = newest(c.name);
    return latest?.state === "exited" && (policy === "Never" || latest.exitCode === 0);
  });
}
