// Stopping one container as the kubelet's killContainer does, and the two
// other things that end a container's run early: a failed liveness (or
// startup) probe, and a failed postStart hook.
//
// Grace: the pod's deletion grace if it is being deleted, else the probe's
// terminationGracePeriodSeconds for a probe kill, else the pod's. preStop runs
// inside it (only when there is some), the whole seconds it took come off,
// and StopContainer gets what is left but never under 2 s (SIGTERM, SIGKILL
// at the end).
import { errorMessage } from "@plasmacloud/common/errors";
import type { Logger } from "@plasmacloud/common/log";
import type { Container, Pod } from "@plasmacloud/proto/k8shost";
import type { PodSink } from "../controlplane/podsource";
import { containerFieldPath, type PodEvents } from "../events/types";
import type { ProbeManager } from "../probes/manager";
import type { PodRuntime } from "../runtime/types";
import type { WorkerNotes } from "../status/compute";
import { longRunning } from "./containers";
import { runHook } from "./hooks";
import { graceSeconds } from "./spec";

const MIN_GRACE_SECONDS = 2; // the kubelet's minimumGracePeriodInSeconds

export interface KillDeps {
  runtime: PodRuntime;
  events: PodEvents;
  log: Logger;
  probes: Pick<ProbeManager, "killFor">;
}

export interface Kill {
  pod: Pod;
  container: { id: string; name: string };
  graceSeconds: number;
  podIP: string;
  /** The Killing event's message; none = the caller reported the kill already. */
  message?: string;
}

export class ContainerKiller {
  /** Per pod: aborts the hooks still running when the pod is deleted (the kubelet cancels its sync). */
  private readonly aborts = new Map<string, AbortController>();

  constructor(private readonly d: KillDeps) {}

  async kill(k: Kill): Promise<void> {
    const { pod, container } = k;
    const spec = longRunning(pod.spec!).find((c) => c.name === container.name);
    const where = containerFieldPath(pod, container.name);
    if (k.message) this.d.events.emit(pod, "Normal", "Killing", k.message, where);
    let grace = k.graceSeconds;
    const preStop = spec?.lifecycle?.preStop;
    if (spec && preStop && grace > 0) {
      const began = Date.now();
      const failed = await runHook(preStop, { pod, container: spec, containerId: container.id, podIP: k.podIP, timeoutMs: grace * 1000 }, this.d.runtime.execSync.bind(this.d.runtime));
      if (failed) {
        // The event carries no hook output (it may hold secrets); the log does.
        this.d.events.emit(pod, "Warning", "FailedPreStopHook", "PreStopHook failed", where);
        this.d.log.warn({ pod: name(pod), container: container.name, err: failed }, "preStop hook failed");
      }
      grace -= Math.floor((Date.now() - began) / 1000);
    }
    await this.d.runtime.stopContainer(container.id, Math.max(MIN_GRACE_SECONDS, grace));
  }

  /**
   * A running container whose liveness (or startup) probe failed is killed;
   * the caller's restart rules (restartPolicy, crash back-off) take it from
   * there. Returns ms until the pod needs another look, if it was killed.
   */
  async ifUnhealthy(pod: Pod, c: Container, id: string, podIP: string, policy: string): Promise<number | undefined> {
    const why = this.d.probes.killFor(c, id);
    if (!why) return undefined;
    const deletion = pod.metadata?.deletionGracePeriodSeconds;
    const grace = deletion !== undefined ? Number(deletion) : (why.graceSeconds ?? graceSeconds(pod));
    const message = `Container ${c.name} failed ${why.kind} probe${policy === "Never" ? "" : ", will be restarted"}`;
    this.d.log.info({ pod: name(pod), container: c.name, probe: why.kind, grace }, "killing container: probe failed");
    await this.kill({ pod, container: { id, name: c.name }, graceSeconds: grace, podIP, message });
    return 0;
  }

  /**
   * postStart, right after StartContainer and before anything else of the pod
   * proceeds (the kubelet waits on it). A failure kills the container and is
   * told in its waiting state (PostStartHookError), an event and the log.
   */
  async postStart(pod: Pod, c: Container, id: string, podIP: string, notes: Pick<WorkerNotes, "waiting">): Promise<void> {
    const hook = c.lifecycle?.postStart;
    if (!hook) return;
    const uid = pod.metadata!.uid;
    let ctl = this.aborts.get(uid);
    if (!ctl) this.aborts.set(uid, (ctl = new AbortController()));
    const failed = await runHook(hook, { pod, container: c, containerId: id, podIP, timeoutMs: 0, signal: ctl.signal }, this.d.runtime.execSync.bind(this.d.runtime));
    if (!failed) return;
    const where = containerFieldPath(pod, c.name);
    this.d.events.emit(pod, "Warning", "FailedPostStartHook", "PostStartHook failed", where);
    this.d.log.warn({ pod: name(pod), container: c.name, err: failed }, "postStart hook failed; killing the container");
    try {
      await this.kill({ pod, container: { id, name: c.name }, graceSeconds: graceSeconds(pod), podIP, message: "FailedPostStartHook" });
    } catch (err) {
      this.d.log.warn({ pod: name(pod), container: c.name, err: errorMessage(err) }, "killing the container after its failed postStart failed");
    }
    notes.waiting.set(c.name, { reason: "PostStartHookError", message: failed });
  }

  /** The pod is being deleted: hooks still running for it give up. */
  abortHooks(uid: string): void {
    this.aborts.get(uid)?.abort();
    this.aborts.delete(uid);
  }
}

const name = (pod: Pod): string => `${pod.metadata!.namespace}/${pod.metadata!.name}`;

/** The pod source's sink, with a deleted pod's running hooks aborted first (the pod's worker may be waiting on one). */
export function abortHooksOnDelete(sink: PodSink, killer: ContainerKiller): PodSink {
  return {
    upsert: (pod) => {
      if (pod.metadata?.deletionTimestamp) killer.abortHooks(pod.metadata.uid);
      sink.upsert(pod);
    },
    remove: (uid, last) => {
      killer.abortHooks(uid);
      sink.remove(uid, last);
    },
    synced: () => sink.synced(),
  };
}
