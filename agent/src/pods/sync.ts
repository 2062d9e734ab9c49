// sync(pod): compare what the pod should be with what the runtime has, from
// scratch every time, and take the next steps toward it. Never a script: an
// agent killed between any two steps finds the same answer on restart. What
// the runtime has is read, or taken from a view known to be current
// (Pleg.current: the relist's cache, or the previous sync's own last read),
// as the kubelet's pod workers read the pod cache.
import type { Logger } from "@plasmacloud/common/log";
import type { Pod } from "@plasmacloud/proto/k8shost";
import type { EnvResolver } from "../env/resolve";
import { containerFieldPath, type PodEvents } from "../events/types";
import type { PodNetwork } from "../network/types";
import type { PhaseMarks } from "../observe/pod-start";
import type { ProbeManager } from "../probes/manager";
import type { ContainerInfo, PodRuntime, PodRuntimeState, TimedState } from "../runtime/types";
import { VolumeError, type PodVolumes } from "../volumes/types";
import type { ImageManager } from "./images";
import { ContainerSync } from "./container-sync";
import { ContainerKiller } from "./kill";
import { policyRefusals, type PolicyRefusal } from "./policy";
import { allContainers, isSidecar } from "./containers";
import { appsFinished, initPlan, podRestartPolicy, restartPolicyOf, type Newest } from "./init";
import { graceSeconds, identity, type NodeSettings } from "./spec";
import { SandboxSync } from "./sandbox-sync";
import { TAINT_REJECT_DETAIL, TAINT_REJECT_MESSAGE, TAINT_REJECT_REASON, taintRejection, type TaintLike } from "./tolerations";
import { validatePod } from "./validate";
import type { PodWork } from "./work";

export interface SyncDeps {
  runtime: PodRuntime;
  network: PodNetwork;
  volumes: PodVolumes;
  images: ImageManager;
  settings: NodeSettings;
  log: Logger;
  /** Tells the control plane the pod's containers are gone (DeletePod, grace 0). */
  finalize(pod: Pod): Promise<void>;
  /** How often a running pod's network is CHECKed. */
  networkCheckMs: number;
  /** Resolves once start-up network GC is done: a new attachment must not race it. */
  newSandboxGate?: Promise<void>;
  /** Where Pulling/Created/Started/Killing/BackOff/... go (the kubelet's event recorder). */
  events: PodEvents;
  /** Each container's env, command and args from its sources (configMaps, secrets, the downward API). */
  env: EnvResolver;
  /** Liveness, readiness and startup probes of the running containers. */
  probes: ProbeManager;
  /** Where a starting pod's time goes (observe/pod-start.ts); one-line marks below. */
  phases?: PhaseMarks;
  /** The node's taints (node.taints): a pod that does not tolerate a NoExecute one is not admitted. */
  nodeTaints?: readonly TaintLike[];
}

export interface SyncResult {
  /** Sync again after this long even if nothing changes (backoff expiry). */
  requeueAfterMs?: number;
  /** Runtime state after the sync, for status. */
  state: PodRuntimeState;
  /** When `state` was read, where the next sync may start from it (Pleg.current decides whether it still can). */
  stateAt?: number;
  /** The pod is fully gone from this node; drop its worker. */
  forget?: boolean;
}

const MIN_GRACE_SECONDS = 2;

export class PodSyncer {
  private readonly rt: PodRuntime;
  /** Stops containers as the kubelet does (preStop first), and runs postStart. */
  readonly killer: ContainerKiller;
  private readonly sandboxes: SandboxSync;
  private readonly containers: ContainerSync;

  constructor(private readonly d: SyncDeps) {
    this.rt = d.runtime;
    this.killer = new ContainerKiller({ runtime: d.runtime, events: d.events, log: d.log, probes: d.probes });
    this.sandboxes = new SandboxSync(d, this.killer);
    this.containers = new ContainerSync(d, this.killer, this.sandboxes);
  }

  /** `cached`: the pod's state known to be current (Pleg.current says when), else it is read here. */
  async sync(w: PodWork, cached?: TimedState): Promise<SyncResult> {
    const pod = w.pod;
    if (!pod || pod.metadata?.deletionTimestamp) return this.terminate(w);
    this.d.phases?.lap(w.uid, "queue");

    // The runtime stamps its mutating calls per pod: a sync that made none on
    // its pod need not read the state again, whatever other pods' syncs did.
    const mutationsBefore = this.rt.mutations(w.uid);
    const readAt = cached?.at ?? performance.now();
    const state = cached?.state ?? (await this.rt.podState(w.uid));
    this.d.phases?.lap(w.uid, "read");
    for (const c of state.containers) w.notes.attempts.set(c.name, Math.max(c.attempt, w.notes.attempts.get(c.name) ?? 0));
    const problem = validatePod(pod, (v) => this.d.volumes.unsupported(v));
    if (problem) {
      w.notes.podFailure = { reason: "InvalidPodSpec", message: problem };
      this.d.probes.forget(w.uid);
      await this.killAll(state, 0);
      w.network = undefined;
      return { state: await this.rt.podState(w.uid) };
    }
    w.notes.podFailure = undefined;
    const rejected = this.rejection(pod);
    if (rejected) {
      // kubelet rejectPod: phase Failed, a Warning event; the pod holds nothing here.
      if (pod.status?.phase !== "Failed") this.d.events.emit(pod, "Warning", TAINT_REJECT_REASON, TAINT_REJECT_DETAIL);
      w.notes.podFailure = rejected;
      this.d.probes.forget(w.uid);
      const live = state.sandboxes.some((s) => s.ready) || state.containers.some((c) => c.state === "running" || c.state === "unknown");
      if (live) await this.killAll(state, graceSeconds(pod), pod, w.notes.podIPs[0] ?? "");
      w.network = undefined;
      return { state: await this.rt.podState(w.uid) };
    }
    w.notes.startTime ??= new Date(w.firstSeen);
    if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") {
      // A finished pod keeps its exited containers for status but holds no sandbox.
      for (const s of state.sandboxes.filter((s) => s.ready)) await this.rt.stopSandbox(s.id);
      return { state };
    }

    // The node's security policy comes before anything is made for the pod.
    const refusals = policyRefusals(pod, this.d.settings.security);
    if (refusals.length > 0) return this.refuse(w, pod, state, refusals);

    // Volumes first, as the kubelet does: a pod whose secret or volume is not
    // ready holds no sandbox (and no IP) while it waits.
    let paths: Map<string, string>;
    try {
      paths = await this.d.volumes.setUp(pod);
    } catch (err) {
      if (!(err instanceof VolumeError)) throw err;
      w.notes.podProblem = { reason: err.reason, message: err.message };
      this.d.events.emit(pod, "Warning", err.reason, err.message); // FailedMount, as the kubelet volume manager reports it
      return { state, requeueAfterMs: err.retryInMs };
    }
    this.d.phases?.lap(w.uid, "volumes");

    const sandbox = await this.sandboxes.ensure(w, pod, state);
    this.d.phases?.lap(w.uid, "sandbox");
    if (!sandbox) return { state: await this.rt.podState(w.uid), requeueAfterMs: this.sandboxes.backoff.remaining(w.uid) || 1000 };
    // A sandbox made just now holds no containers yet; older ones were removed with their sandboxes.
    const fresh: PodRuntimeState = sandbox.fresh ? { sandboxes: [sandbox.info], containers: [] } : state;

    let requeue: number | undefined;
    const after = (wait: number | undefined): void => {
      if (wait !== undefined) requeue = Math.min(requeue ?? wait, wait);
    };
    const spec = pod.spec!;
    const made: string[] = [];
    const newest = newestIn(fresh, sandbox.info.id);
    if (appsFinished(spec, newest)) {
      // Complete: the sidecars go, last started first; nothing is restarted.
      await this.stopSidecars(pod, fresh, sandbox.info.id);
    } else {
      const init = initPlan(spec, newest, (c, info) => info.state === "running" && this.d.probes.started(c, info.id));
      for (const c of init.keep) after(await this.containers.sync(w, pod, c, sandbox.info, fresh, paths, "Always", made));
      if (init.next) after(await this.containers.sync(w, pod, init.next, sandbox.info, fresh, paths, restartPolicyOf(spec, init.next, true), made));
      if (init.done) for (const c of spec.containers) after(await this.containers.sync(w, pod, c, sandbox.info, fresh, paths, podRestartPolicy(spec), made));
    }
    // CHECK runs on its own timer: a broken attachment changes nothing in CRI.
    if (this.d.network.check && w.network) {
      const due = Math.max(0, w.network.checkedAt + this.d.networkCheckMs - Date.now());
      requeue = Math.min(requeue ?? due, due);
    }
    const unchanged = this.rt.mutations(w.uid) === mutationsBefore && !sandbox.fresh;
    const stateAt = unchanged ? readAt : performance.now();
    // A sandbox made now holds only what this sync made in it: their statuses are the pod's whole state.
    const current = unchanged ? state : sandbox.fresh ? await this.rt.stateOf(sandbox.info.id, made) : await this.rt.podState(w.uid);
    w.notes.probes = this.d.probes.update(pod, current, w.notes.podIPs[0] ?? sandbox.info.ip);
    return { state: current, stateAt, requeueAfterMs: requeue };
  }

  /**
   * A pod the node's policy refuses holds nothing here: no volume, no sandbox
   * (one left from a laxer config before a restart is removed, as the kubelet
   * kills a pod it may not run). The refused containers say why.
   */
  private async refuse(w: PodWork, pod: Pod, state: PodRuntimeState, refusals: PolicyRefusal[]): Promise<SyncResult> {
    for (const c of allContainers(pod.spec!)) {
      const mine = refusals.filter((r) => r.container === c.name).map((r) => r.message);
      if (mine.length > 0) w.notes.waiting.set(c.name, { reason: "CreateContainerConfigError", message: mine.join("; ") });
    }
    w.notes.podProblem = { reason: refusals[0]!.reason, message: refusals.map((r) => r.message).join("; ") };
    if (state.sandboxes.length === 0) return { state };
    const p = identity(pod);
    for (const s of state.sandboxes) await this.sandboxes.kill(p, s, state, graceSeconds(pod), pod);
    w.network = undefined;
    return { state: await this.rt.podState(w.uid) };
  }

  /**
   * The kubelet's admission (lifecycle/predicate.go generalFilter): a pod that
   * does not tolerate one of the node's NoExecute taints is refused. A finished
   * pod is not judged again; one refused keeps its verdict (and reason).
   */
  private rejection(pod: Pod): { reason: string; message: string } | undefined {
    const st = pod.status;
    if (st?.phase === "Succeeded" || st?.phase === "Failed") return st.reason === TAINT_REJECT_REASON ? { reason: st.reason, message: st.message } : undefined;
    return taintRejection(pod, this.d.nodeTaints ?? []) ? { reason: TAINT_REJECT_REASON, message: TAINT_REJECT_MESSAGE } : undefined;
  }

  /** The kubelet stops a finished pod's sidecars one by one, in reverse order of their start. */
  private async stopSidecars(pod: Pod, state: PodRuntimeState, sandboxId: string): Promise<void> {
    const newest = newestIn(state, sandboxId);
    for (const c of [...pod.spec!.initContainers].reverse()) {
      const info = isSidecar(c) ? newest(c.name) : undefined;
      if (info?.state === "running") await this.killer.kill({ pod, container: info, graceSeconds: graceSeconds(pod), podIP: sandboxIP(state, sandboxId), message: `Stopping container ${c.name}` });
    }
  }

  /** Deleted or marked for deletion: stop everything within the grace period, then finalize. */
  private async terminate(w: PodWork): Promise<SyncResult> {
    const pod = w.pod ?? w.lastPod;
    this.d.probes.forget(w.uid);
    const state = await this.rt.podState(w.uid);
    // The killer gives preStop its part of the pod's grace and StopContainer at least the minimum.
    const grace = pod ? graceSeconds(pod) : MIN_GRACE_SECONDS;
    if (pod) for (const c of state.containers) if (c.state === "running") this.d.events.emit(pod, "Normal", "Killing", `Stopping container ${c.name}`, containerFieldPath(pod, c.name));
    await this.killAll(state, grace, pod, w.notes.podIPs[0] ?? "");
    w.network = undefined;
    // A pod without an object here (an orphan) is known by its sandboxes' labels.
    const who = pod ? identity(pod) : state.sandboxes[0]?.pod;
    if (who) await this.rt.removePod(who, state.sandboxes.map((s) => s.id));
    await this.d.volumes.tearDown(w.uid);
    this.containers.crashBackoff.forgetPrefix(`${w.uid}/`);
    this.sandboxes.backoff.reset(w.uid);
    this.d.images.forget(w.uid);
    const after = await this.rt.podState(w.uid);
    if (w.pod && !w.finalized) {
      await this.d.finalize(w.pod);
      w.finalized = true;
    }
    return { state: after, forget: w.pod === undefined };
  }

  /** With the pod, each container is stopped the kubelet's way (preStop first); without, at once. */
  private async killAll(state: PodRuntimeState, graceSeconds: number, pod?: Pod, podIP = ""): Promise<void> {
    const began = Date.now();
    const kill = (c: ContainerInfo, grace: number): Promise<void> => (pod ? this.killer.kill({ pod, container: c, graceSeconds: grace, podIP }) : this.rt.stopContainer(c.id, grace));
    const live = state.containers.filter((c) => c.state === "running" || c.state === "unknown");
    // As the kubelet: the app containers together first, then the sidecars one
    // by one, last started first, each with what is left of the grace period.
    const sidecars = pod ? pod.spec!.initContainers.filter(isSidecar).map((c) => c.name).reverse() : [];
    await Promise.all(live.filter((c) => !sidecars.includes(c.name)).map((c) => kill(c, graceSeconds)));
    for (const name of sidecars) {
      const left = Math.max(MIN_GRACE_SECONDS, graceSeconds - Math.floor((Date.now() - began) / 1000));
      await Promise.all(live.filter((c) => c.name === name).map((c) => kill(c, left)));
    }
    for (const s of state.sandboxes) {
      // Labels carry the tenant, so an orphan's network is released too.
      await this.d.network.tearDown(s.pod, s.id, s.netnsPath);
      await this.rt.stopSandbox(s.id);
    }
  }


}

const sandboxIP = (state: PodRuntimeState, id: string): string => state.sandboxes.find((s) => s.id === id)?.ip ?? "";

/** The newest instance of each container in one sandbox. */
function newestIn(state: PodRuntimeState, sandboxId: string): Newest {
  return (name) => {
    let best: ContainerInfo | undefined;
    for (const x of state.containers) if (x.name === name && x.sandboxId === sandboxId && (!best || x.attempt > best.attempt)) best = x;
    return best;
  };
}
