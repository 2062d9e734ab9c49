// The pod's sandbox: exactly one ready sandbox with its network, made when
// missing or dead, replaced when its network breaks; the kubelet's
// createPodSandbox and killPodWithSyncResult for the sandbox half.
import { errorMessage } from "@plasmacloud/common/errors";
import type { Pod } from "@plasmacloud/proto/k8shost";
import { KeyedBackoff } from "../retry/backoff";
import { terminated } from "../status/compute";
import type { ContainerInfo, PodIdentity, PodRuntimeState, SandboxInfo, SandboxRequest } from "../runtime/types";
import type { ContainerKiller } from "./kill";
import { graceSeconds, identity, sandboxRequest } from "./spec";
import type { SyncDeps } from "./sync";
import type { PodWork } from "./work";

export type SandboxDeps = Pick<SyncDeps, "runtime" | "network" | "settings" | "log" | "events" | "networkCheckMs" | "newSandboxGate">;

export class SandboxSync {
  readonly backoff = new KeyedBackoff(1_000, 60_000);

  constructor(
    private readonly d: SandboxDeps,
    /** Stops a pod's running containers the kubelet's way (preStop, then TERM within the grace). */
    private readonly killer: Pick<ContainerKiller, "kill">,
  ) {}

  /** Exactly one ready sandbox with its network, or undefined (retry later). */
  async ensure(w: PodWork, pod: Pod, state: PodRuntimeState): Promise<{ info: SandboxInfo; fresh: boolean } | undefined> {
    const ready = state.sandboxes.filter((s) => s.ready).sort((a, b) => b.createdAt - a.createdAt);
    const [current, ...extra] = ready;
    const p = identity(pod);
    for (const s of extra) await this.kill(p, s, state, 0, undefined, w); // never two sandboxes for a pod
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
    if (this.backoff.remaining(w.uid) > 0) return undefined;
    if (state.sandboxes.length > 0) this.d.events.emit(pod, "Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.");
    // Dead sandboxes go before a new one is made, with what they held: as the
    // kubelet's killPodWithSyncResult, containers still running get their
    // preStop and the pod's grace period.
    for (const s of state.sandboxes) await this.kill(p, s, state, graceSeconds(pod), pod, w);
    const attempt = state.sandboxes.reduce((m, s) => Math.max(m, s.attempt + 1), 0);
    let req: SandboxRequest;
    try {
      req = this.request(pod, attempt);
    } catch (err) {
      // The pod cannot be attached (no subnet, no tenant): no sandbox is made.
      this.d.events.emit(pod, "Warning", "NetworkNotReady", `network is not ready: ${errorMessage(err)}`);
      w.notes.podProblem = { reason: "NetworkNotReady", message: errorMessage(err) };
      this.backoff.next(w.uid);
      return undefined;
    }
    await this.d.newSandboxGate;
    let id: string;
    try {
      id = await this.d.runtime.runSandbox(req);
    } catch (err) {
      w.notes.podProblem = { reason: "FailedCreatePodSandBox", message: errorMessage(err) };
      this.d.events.emit(pod, "Warning", "FailedCreatePodSandBox", `Failed to create pod sandbox: ${errorMessage(err)}`);
      this.backoff.next(w.uid);
      this.d.log.warn({ pod: `${p.namespace}/${p.name}`, err: errorMessage(err) }, "RunPodSandbox failed");
      return undefined;
    }
    const created = await this.d.runtime.sandbox(id);
    if (!created) {
      this.backoff.next(w.uid);
      return undefined;
    }
    try {
      await this.ensureNetwork(w, pod, created);
    } catch (err) {
      return this.networkFailed(w, p, created, { sandboxes: [created], containers: [] }, err);
    }
    w.notes.podProblem = undefined;
    this.backoff.reset(w.uid);
    return { info: created, fresh: true };
  }

  /** A sandbox whose network is broken or missing is replaced, as the kubelet does. */
  private async networkFailed(w: PodWork, p: PodIdentity, s: SandboxInfo, state: PodRuntimeState, err: unknown): Promise<undefined> {
    if (w.pod) this.d.events.emit(w.pod, "Warning", "NetworkNotReady", `network is not ready: ${errorMessage(err)}`);
    w.notes.podProblem = { reason: "NetworkNotReady", message: errorMessage(err) };
    w.network = undefined;
    await this.kill(p, s, state, w.pod ? graceSeconds(w.pod) : 0, w.pod, w);
    this.backoff.next(w.uid);
    return undefined;
  }

  /** The sandbox config; the same for RunPodSandbox and every CreateContainer. */
  request(pod: Pod, attempt: number): SandboxRequest {
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

  /**
   * Stops the sandbox and what runs in it, then removes it; with the pod, its
   * containers are killed the kubelet's way. With the pod's work, how they
   * ended is kept in its notes: their records go with the sandbox.
   */
  async kill(p: PodIdentity, s: SandboxInfo, state: PodRuntimeState, graceSeconds: number, pod?: Pod, w?: PodWork): Promise<void> {
    const inside: ContainerInfo[] = state.containers.filter((c) => c.sandboxId === s.id && c.state === "running");
    await Promise.all(inside.map((c) => (pod
      ? this.killer.kill({ pod, container: c, graceSeconds, podIP: s.ip, message: `Stopping container ${c.name}` })
      : this.d.runtime.stopContainer(c.id, graceSeconds))));
    await this.d.network.tearDown(p, s.id, s.netnsPath);
    await this.d.runtime.stopSandbox(s.id);
    if (w && state.containers.some((c) => c.sandboxId === s.id)) await this.rememberEnds(w, s.id);
    await this.d.runtime.removeSandbox(s.id);
  }

  /** The newest exited instance of each container in the sandbox, as its termination. */
  private async rememberEnds(w: PodWork, sandboxId: string): Promise<void> {
    const ended = (await this.d.runtime.podState(w.uid)).containers.filter((c) => c.sandboxId === sandboxId && c.state === "exited");
    for (const c of ended) {
      const had = w.notes.goneTerminated.get(c.name);
      if (!had || c.attempt >= had.attempt) w.notes.goneTerminated.set(c.name, { attempt: c.attempt, state: terminated(c, w.notes.runtimeName) });
    }
  }
}
