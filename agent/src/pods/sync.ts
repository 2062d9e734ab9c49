// sync(pod): compare what the pod should be with what the runtime has, from
// scratch every time, and take the next steps toward it. Never a script: an
// agent killed between any two steps finds the same answer on restart.
import { errorMessage } from "@plasmacloud/common/errors";
import type { Logger } from "@plasmacloud/common/log";
import type { Container, Pod } from "@plasmacloud/proto/k8shost";
import type { PodEvents } from "../events/types";
import type { PodNetwork } from "../network/types";
import { KeyedBackoff } from "../retry/backoff";
import type { ContainerInfo, ContainerRequest, PodIdentity, PodRuntime, PodRuntimeState, SandboxInfo, SandboxRequest } from "../runtime/types";
import { VolumeError, type PodVolumes } from "../volumes/types";
import { ImageError, type ImageManager } from "./images";
import { policyRefusals, type PolicyRefusal } from "./policy";
import { needsImageUser, verifyRunAsNonRoot } from "./security";
import { containerRequest, graceSeconds, identity, sandboxRequest, type NodeSettings } from "./spec";
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
}

export interface SyncResult {
  /** Sync again after this long even if nothing changes (backoff expiry). */
  requeueAfterMs?: number;
  /** Runtime state after the sync, for status. */
  state: PodRuntimeState;
  /** The pod is fully gone from this node; drop its worker. */
  forget?: boolean;
}

const CRASH_INITIAL_MS = 10_000;
const CRASH_MAX_MS = 300_000;
const CRASH_RESET_MS = 600_000;
const MIN_GRACE_SECONDS = 2;
/** A container refused for its config (runAsNonRoot) is looked at again after this long. */
const CONFIG_RETRY_MS = 10_000;

export class PodSyncer {
  readonly crashBackoff = new KeyedBackoff(CRASH_INITIAL_MS, CRASH_MAX_MS);
  readonly sandboxBackoff = new KeyedBackoff(1_000, 60_000);

  private readonly rt: PodRuntime;

  constructor(private readonly d: SyncDeps) {
    this.rt = d.runtime;
  }

  async sync(w: PodWork): Promise<SyncResult> {
    const pod = w.pod;
    if (!pod || pod.metadata?.deletionTimestamp) return this.terminate(w);

    const state = await this.rt.podState(w.uid);
    // The runtime counts its mutating calls: a sync that made none need not read the state again.
    const mutationsBefore = this.rt.mutations();
    const problem = validatePod(pod, (v) => this.d.volumes.unsupported(v));
    if (problem) {
      w.notes.podFailure = { reason: "InvalidPodSpec", message: problem };
      await this.killAll(state, 0);
      w.network = undefined;
      return { state: await this.rt.podState(w.uid) };
    }
    w.notes.podFailure = undefined;
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
      return { state, requeueAfterMs: err.retryInMs };
    }

    const sandbox = await this.ensureSandbox(w, pod, state);
    if (!sandbox) return { state: await this.rt.podState(w.uid), requeueAfterMs: this.sandboxBackoff.remaining(w.uid) || 1000 };
    // A sandbox made just now holds no containers yet; older ones were removed with their sandboxes.
    const fresh: PodRuntimeState = sandbox.fresh ? { sandboxes: [sandbox.info], containers: [] } : state;

    let requeue: number | undefined;
    for (const c of pod.spec!.containers) {
      const wait = await this.syncContainer(w, pod, c, sandbox.info, fresh, paths);
      if (wait !== undefined) requeue = Math.min(requeue ?? wait, wait);
    }
    // CHECK runs on its own timer: a broken attachment changes nothing in CRI.
    if (this.d.network.check && w.network) {
      const due = Math.max(0, w.network.checkedAt + this.d.networkCheckMs - Date.now());
      requeue = Math.min(requeue ?? due, due);
    }
    const unchanged = this.rt.mutations() === mutationsBefore && !sandbox.fresh;
    return { state: unchanged ? state : await this.rt.podState(w.uid), requeueAfterMs: requeue };
  }

  /**
   * A pod the node's policy refuses holds nothing here: no volume, no sandbox
   * (one left from a laxer config before a restart is removed, as the kubelet
   * kills a pod it may not run). The refused containers say why.
   */
  private async refuse(w: PodWork, pod: Pod, state: PodRuntimeState, refusals: PolicyRefusal[]): Promise<SyncResult> {
    for (const c of pod.spec!.containers) {
      const mine = refusals.filter((r) => r.container === c.name).map((r) => r.message);
      if (mine.length > 0) w.notes.waiting.set(c.name, { reason: "CreateContainerConfigError", message: mine.join("; ") });
    }
    w.notes.podProblem = { reason: refusals[0]!.reason, message: refusals.map((r) => r.message).join("; ") };
    if (state.sandboxes.length === 0) return { state };
    const p = identity(pod);
    for (const s of state.sandboxes) await this.killSandbox(p, s, state, graceSeconds(pod));
    w.network = undefined;
    return { state: await this.rt.podState(w.uid) };
  }

  /** Exactly one ready sandbox with its network, or undefined (retry later). */
  private async ensureSandbox(w: PodWork, pod: Pod, state: PodRuntimeState): Promise<{ info: SandboxInfo; fresh: boolean } | undefined> {
    const ready = state.sandboxes.filter((s) => s.ready).sort((a, b) => b.createdAt - a.createdAt);
    const [current, ...extra] = ready;
    const p = identity(pod);
    for (const s of extra) await this.killSandbox(p, s, state, 0); // never two sandboxes for a pod
    if (current) {
      try {
        await this.ensureNetwork(w, pod, current);
      } catch (err) {
        return this.networkFailed(w, p, current, state, err);
      }
      w.notes.podProblem = undefined;
      return { info: current, fresh: false };
    }
    const policy = pod.spec!.restartPolicy || "Always";
    const ran = state.containers.length > 0;
    if (ran && policy !== "Always") {
      const allOk = pod.spec!.containers.every((c) => state.containers.some((x) => x.name === c.name && x.state === "exited" && x.exitCode === 0));
      if (policy === "Never" || allOk) return undefined; // the pod is done; status shows it
    }
    if (this.sandboxBackoff.remaining(w.uid) > 0) return undefined;
    // Dead sandboxes go before a new one is made, with what they held.
    for (const s of state.sandboxes) await this.killSandbox(p, s, state, 0);
    const attempt = state.sandboxes.reduce((m, s) => Math.max(m, s.attempt + 1), 0);
    let req: SandboxRequest;
    try {
      req = this.sandboxReq(pod, attempt);
    } catch (err) {
      // The pod cannot be attached (no subnet, no tenant): no sandbox is made.
      w.notes.podProblem = { reason: "NetworkNotReady", message: errorMessage(err) };
      this.sandboxBackoff.next(w.uid);
      return undefined;
    }
    await this.d.newSandboxGate;
    let id: string;
    try {
      id = await this.rt.runSandbox(req);
    } catch (err) {
      w.notes.podProblem = { reason: "FailedCreatePodSandBox", message: errorMessage(err) };
      this.sandboxBackoff.next(w.uid);
      this.d.log.warn({ pod: `${p.namespace}/${p.name}`, err: errorMessage(err) }, "RunPodSandbox failed");
      return undefined;
    }
    const created = await this.rt.sandbox(id);
    if (!created) {
      this.sandboxBackoff.next(w.uid);
      return undefined;
    }
    try {
      await this.ensureNetwork(w, pod, created);
    } catch (err) {
      return this.networkFailed(w, p, created, { sandboxes: [created], containers: [] }, err);
    }
    w.notes.podProblem = undefined;
    this.sandboxBackoff.reset(w.uid);
    return { info: created, fresh: true };
  }

  /** A sandbox whose network is broken or missing is replaced, as the kubelet does. */
  private async networkFailed(w: PodWork, p: PodIdentity, s: SandboxInfo, state: PodRuntimeState, err: unknown): Promise<undefined> {
    w.notes.podProblem = { reason: "NetworkNotReady", message: errorMessage(err) };
    w.network = undefined;
    await this.killSandbox(p, s, state, 0);
    this.sandboxBackoff.next(w.uid);
    return undefined;
  }

  /** The sandbox config; the same for RunPodSandbox and every CreateContainer. */
  private sandboxReq(pod: Pod, attempt: number): SandboxRequest {
    return sandboxRequest(pod, attempt, this.d.settings, this.d.network.sandboxAnnotations(identity(pod), pod.metadata!.annotations));
  }

  /**
   * Sets the network up once per sandbox (after a restart too: setUp is
   * idempotent and returns the same IPs), then only CHECKs it now and then:
   * a plugin process per sync would cost more than the sync itself.
   */
  private async ensureNetwork(w: PodWork, pod: Pod, s: SandboxInfo): Promise<void> {
    const p = identity(pod);
    const annotations = pod.metadata!.annotations;
    if (w.network?.sandboxId !== s.id) {
      w.notes.podIPs = await this.d.network.setUp(p, annotations, s);
      w.network = { sandboxId: s.id, checkedAt: Date.now() };
      return;
    }
    if (this.d.network.check && Date.now() - w.network.checkedAt >= this.d.networkCheckMs) {
      await this.d.network.check(p, annotations, s, w.notes.podIPs);
      w.network.checkedAt = Date.now();
    }
  }

  /** Returns ms until this container needs another look, if it waits on a timer. */
  private async syncContainer(w: PodWork, pod: Pod, c: Container, sandbox: SandboxInfo, state: PodRuntimeState, paths: Map<string, string>): Promise<number | undefined> {
    const mine = state.containers.filter((x) => x.name === c.name && x.sandboxId === sandbox.id).sort((a, b) => b.attempt - a.attempt);
    const latest = mine[0];
    const key = `${w.uid}/${c.name}`;
    const p = identity(pod);
    if (latest?.state === "running") {
      w.notes.waiting.delete(c.name);
      return undefined;
    }
    if (latest?.state === "created") {
      try {
        await this.rt.startContainer(latest.id);
        w.notes.waiting.delete(c.name);
      } catch (err) {
        w.notes.waiting.set(c.name, { reason: "RunContainerError", message: errorMessage(err) });
        this.crashBackoff.next(key);
        await this.rt.removeContainer(latest.id);
        return this.crashBackoff.remaining(key);
      }
      return undefined;
    }
    let attempt = 0;
    if (latest) {
      const policy = pod.spec!.restartPolicy || "Always";
      const restart = policy === "Always" || (policy === "OnFailure" && latest.exitCode !== 0);
      if (!restart) {
        w.notes.waiting.delete(c.name);
        return undefined;
      }
      if (latest.startedAt && latest.finishedAt - latest.startedAt >= CRASH_RESET_MS) this.crashBackoff.reset(key);
      const wait = this.crashBackoff.remaining(key);
      if (wait > 0) {
        w.notes.waiting.set(c.name, { reason: "CrashLoopBackOff", message: `back-off ${Math.round(this.crashBackoff.delay(key) / 1000)}s restarting failed container=${c.name} pod=${p.name}_${p.namespace}(${p.uid})` });
        return wait;
      }
      this.crashBackoff.next(key);
      attempt = latest.attempt + 1;
    }
    let image: string;
    try {
      image = await this.d.images.ensure(pod, c);
    } catch (err) {
      if (err instanceof ImageError) {
        w.notes.waiting.set(c.name, { reason: err.reason, message: err.message });
        return err.retryInMs;
      }
      throw err;
    }
    // The kubelet's generateContainerConfig checks: runAsNonRoot against the image's user.
    const user = needsImageUser(pod, c) ? await this.rt.imageUser(image) : undefined;
    const refused = verifyRunAsNonRoot(pod, c, user);
    if (refused) {
      w.notes.waiting.set(c.name, { reason: "CreateContainerConfigError", message: refused });
      return CONFIG_RETRY_MS;
    }
    let mounts: ContainerRequest["mounts"];
    try {
      mounts = await this.d.volumes.mounts(pod, c, paths);
    } catch (err) {
      if (!(err instanceof VolumeError)) throw err;
      w.notes.waiting.set(c.name, { reason: err.reason, message: err.message }); // e.g. a subPath escaping its volume
      return err.retryInMs;
    }
    const sreq = this.sandboxReq(pod, sandbox.attempt);
    let id: string;
    try {
      id = await this.rt.createContainer(sandbox.id, sreq, containerRequest(pod, c, attempt, image, mounts, this.d.settings, user));
    } catch (err) {
      w.notes.waiting.set(c.name, { reason: "CreateContainerError", message: errorMessage(err) });
      return 5000;
    }
    try {
      await this.rt.startContainer(id);
      w.notes.waiting.delete(c.name);
    } catch (err) {
      // The runtime keeps the failed container as exited: the crash-loop rules take it from here.
      w.notes.waiting.set(c.name, { reason: "RunContainerError", message: errorMessage(err) });
    }
    // Keep the newest exited instance for lastState; older ones go.
    for (const old of mine.slice(1)) await this.rt.removeContainer(old.id);
    return undefined;
  }

  /** Deleted or marked for deletion: stop everything within the grace period, then finalize. */
  private async terminate(w: PodWork): Promise<SyncResult> {
    const pod = w.pod ?? w.lastPod;
    const state = await this.rt.podState(w.uid);
    const grace = pod ? Math.max(MIN_GRACE_SECONDS, graceSeconds(pod)) : MIN_GRACE_SECONDS;
    await this.killAll(state, grace);
    w.network = undefined;
    // A pod without an object here (an orphan) is known by its sandboxes' labels.
    const who = pod ? identity(pod) : state.sandboxes[0]?.pod;
    if (who) await this.rt.removePod(who, state.sandboxes.map((s) => s.id));
    await this.d.volumes.tearDown(w.uid);
    this.crashBackoff.forgetPrefix(`${w.uid}/`);
    this.sandboxBackoff.reset(w.uid);
    this.d.images.forget(w.uid);
    const after = await this.rt.podState(w.uid);
    if (w.pod && !w.finalized) {
      await this.d.finalize(w.pod);
      w.finalized = true;
    }
    return { state: after, forget: w.pod === undefined };
  }

  private async killAll(state: PodRuntimeState, graceSeconds: number): Promise<void> {
    await Promise.all(state.containers.filter((c) => c.state === "running" || c.state === "unknown").map((c) => this.rt.stopContainer(c.id, graceSeconds)));
    for (const s of state.sandboxes) {
      // Labels carry the tenant, so an orphan's network is released too.
      await this.d.network.tearDown(s.pod, s.id, s.netnsPath);
      await this.rt.stopSandbox(s.id);
    }
  }

  private async killSandbox(p: PodIdentity, s: SandboxInfo, state: PodRuntimeState, graceSeconds: number): Promise<void> {
    const inside: ContainerInfo[] = state.containers.filter((c) => c.sandboxId === s.id && c.state === "running");
    await Promise.all(inside.map((c) => this.rt.stopContainer(c.id, graceSeconds)));
    await this.d.network.tearDown(p, s.id, s.netnsPath);
    await this.rt.stopSandbox(s.id);
    await this.rt.removeSandbox(s.id);
  }
}
