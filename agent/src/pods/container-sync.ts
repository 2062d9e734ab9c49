// One container of the pod toward running, the kubelet's per-container step:
// start what was created, restart what exited (restart policy, crash
// back-off), else pull, check, create and start a new instance; a running one
// is only looked at by its probes.
import { errorMessage } from "@plasmacloud/common/errors";
import type { Container, Pod } from "@plasmacloud/proto/k8shost";
import { EnvError, type ContainerEnvironment } from "../env/resolve";
import { containerFieldPath } from "../events/types";
import { KeyedBackoff } from "../retry/backoff";
import type { ContainerRequest, PodRuntimeState, SandboxInfo } from "../runtime/types";
import { VolumeError } from "../volumes/types";
import { ImageError } from "./images";
import type { RestartPolicy } from "./init";
import type { ContainerKiller } from "./kill";
import type { SandboxSync } from "./sandbox-sync";
import { needsImageUser, verifyRunAsNonRoot } from "./security";
import { containerRequest, identity, podHosts } from "./spec";
import type { SyncDeps } from "./sync";
import type { PodWork } from "./work";

const CRASH_INITIAL_MS = 10_000;
const CRASH_MAX_MS = 300_000;
const CRASH_RESET_MS = 600_000;
/** A container refused for its config (runAsNonRoot) is looked at again after this long. */
const CONFIG_RETRY_MS = 10_000;

export type ContainerDeps = Pick<SyncDeps, "runtime" | "volumes" | "images" | "settings" | "events" | "env" | "phases">;

export class ContainerSync {
  readonly crashBackoff = new KeyedBackoff(CRASH_INITIAL_MS, CRASH_MAX_MS);

  constructor(
    private readonly d: ContainerDeps,
    private readonly killer: ContainerKiller,
    private readonly sandboxes: SandboxSync,
  ) {}

  /** Returns ms until this container needs another look, if it waits on a timer; the id of a container it made goes into `made`. */
  async sync(w: PodWork, pod: Pod, c: Container, sandbox: SandboxInfo, state: PodRuntimeState, paths: Map<string, string>, policy: RestartPolicy, made: string[]): Promise<number | undefined> {
    const mine = state.containers.filter((x) => x.name === c.name && x.sandboxId === sandbox.id).sort((a, b) => b.attempt - a.attempt);
    let latest = mine[0];
    const key = `${w.uid}/${c.name}`;
    const p = identity(pod);
    let unhealthy = false;
    if (latest?.state === "running") {
      w.notes.waiting.delete(c.name);
      const killed = await this.killer.ifUnhealthy(pod, c, latest.id, w.notes.podIPs[0] ?? sandbox.ip, policy);
      if (killed === undefined || policy === "Never") return killed;
      // As the kubelet's computePodActions: the replacement starts in the same
      // sync as the kill, whatever the exit code. A later sync would find a
      // clean exit (a server answering SIGTERM with 0) and, under OnFailure,
      // call the pod done.
      latest = { ...latest, state: "exited" };
      unhealthy = true;
    }
    if (latest?.state === "created") {
      try {
        await this.d.runtime.startContainer(latest.id);
        this.d.events.emit(pod, "Normal", "Started", `Started container ${c.name}`, containerFieldPath(pod, c.name));
        w.notes.waiting.delete(c.name);
        await this.killer.postStart(pod, c, latest.id, w.notes.podIPs[0] ?? sandbox.ip, w.notes);
      } catch (err) {
        w.notes.waiting.set(c.name, { reason: "RunContainerError", message: errorMessage(err) });
        this.crashBackoff.next(key);
        this.d.events.emit(pod, "Warning", "Failed", `Error: ${errorMessage(err)}`, containerFieldPath(pod, c.name));
        await this.d.runtime.removeContainer(latest.id);
        return this.crashBackoff.remaining(key);
      }
      return undefined;
    }
    // The first instance in this sandbox goes on from the pod's earlier ones.
    const seen = w.notes.attempts.get(c.name);
    let attempt = latest || seen === undefined ? 0 : seen + 1;
    if (latest) {
      const restart = unhealthy || policy === "Always" || (policy === "OnFailure" && latest.exitCode !== 0);
      if (!restart) {
        w.notes.waiting.delete(c.name);
        return undefined;
      }
      if (latest.startedAt && latest.finishedAt - latest.startedAt >= CRASH_RESET_MS) this.crashBackoff.reset(key);
      const wait = this.crashBackoff.remaining(key);
      if (wait > 0) {
        w.notes.waiting.set(c.name, { reason: "CrashLoopBackOff", message: `back-off ${Math.round(this.crashBackoff.delay(key) / 1000)}s restarting failed container=${c.name} pod=${p.name}_${p.namespace}(${p.uid})` });
        this.d.events.emit(pod, "Warning", "BackOff", `Back-off restarting failed container ${c.name} in pod ${p.name}_${p.namespace}(${p.uid})`, containerFieldPath(pod, c.name));
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
    this.d.phases?.lap(w.uid, "pull");
    // The kubelet's generateContainerConfig checks: runAsNonRoot against the image's user.
    const user = needsImageUser(pod, c) ? await this.d.runtime.imageUser(image) : undefined;
    const refused = verifyRunAsNonRoot(pod, c, user);
    if (refused) {
      w.notes.waiting.set(c.name, { reason: "CreateContainerConfigError", message: refused });
      this.d.events.emit(pod, "Warning", "Failed", `Error: ${refused}`, containerFieldPath(pod, c.name));
      return CONFIG_RETRY_MS;
    }
    let mounts: ContainerRequest["mounts"];
    try {
      mounts = await this.d.volumes.mounts(pod, c, paths);
      // After the volumes, as the kubelet's makeMounts: the pod's addresses are known by now.
      const hosts = await this.d.volumes.hostsMount(w.uid, c, podHosts(pod, w.notes.podIPs, this.d.settings.clusterDNS.domain));
      if (hosts) mounts.push(hosts);
    } catch (err) {
      if (!(err instanceof VolumeError)) throw err;
      w.notes.waiting.set(c.name, { reason: err.reason, message: err.message }); // e.g. a subPath escaping its volume
      this.d.events.emit(pod, "Warning", "Failed", `Error: ${err.message}`, containerFieldPath(pod, c.name));
      return err.retryInMs;
    }
    // Right before CreateContainer, as the kubelet: the pod IP is known by now.
    let resolved: ContainerEnvironment;
    try {
      resolved = await this.d.env.resolve(pod, c, { podIPs: w.notes.podIPs, hostIP: w.notes.hostIP, events: this.d.events });
    } catch (err) {
      if (!(err instanceof EnvError)) throw err;
      w.notes.waiting.set(c.name, { reason: err.reason, message: err.message }); // e.g. configmap "x" not found
      this.d.events.emit(pod, "Warning", "Failed", `Error: ${err.message}`, containerFieldPath(pod, c.name));
      return err.retryInMs;
    }
    const sreq = this.sandboxes.request(pod, sandbox.attempt);
    let id: string;
    try {
      id = await this.d.runtime.createContainer(sandbox.id, sreq, containerRequest(pod, c, attempt, image, mounts, this.d.settings, user, resolved));
      made.push(id);
    } catch (err) {
      w.notes.waiting.set(c.name, { reason: "CreateContainerError", message: errorMessage(err) });
      this.d.events.emit(pod, "Warning", "Failed", `Error: ${errorMessage(err)}`, containerFieldPath(pod, c.name));
      return 5000;
    }
    this.d.phases?.lap(w.uid, "create");
    try {
      this.d.events.emit(pod, "Normal", "Created", `Created container ${c.name}`, containerFieldPath(pod, c.name));
      await this.d.runtime.startContainer(id);
      this.d.events.emit(pod, "Normal", "Started", `Started container ${c.name}`, containerFieldPath(pod, c.name));
      w.notes.waiting.delete(c.name);
      await this.killer.postStart(pod, c, id, w.notes.podIPs[0] ?? sandbox.ip, w.notes);
    } catch (err) {
      this.d.events.emit(pod, "Warning", "Failed", `Error: ${errorMessage(err)}`, containerFieldPath(pod, c.name));
      // The runtime keeps the failed container as exited: the crash-loop rules take it from here.
      w.notes.waiting.set(c.name, { reason: "RunContainerError", message: errorMessage(err) });
    }
    this.d.phases?.lap(w.uid, "start");
    // Keep the newest exited instance for lastState; older ones go.
    for (const old of mine.slice(1)) await this.d.runtime.removeContainer(old.id);
    return undefined;
  }
}
