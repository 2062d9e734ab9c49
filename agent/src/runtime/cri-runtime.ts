// PodRuntime over CRI. Relist keeps a cache of what cannot change (a running
// container's start, an exited container's end, a sandbox's IP) so a node with
// 110 pods costs two list calls a second, not hundreds of status calls.
import { mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import {
  ContainerStatusRequest,
  CreateContainerRequest,
  AttachRequest,
  ExecRequest,
  ExecSyncRequest,
  ImageStatusRequest,
  ListContainersRequest,
  ListPodSandboxRequest,
  PodSandboxStatusRequest,
  PortForwardRequest,
  PullImageRequest,
  RemoveContainerRequest,
  RemovePodSandboxRequest,
  ReopenContainerLogRequest,
  RunPodSandboxRequest,
  StartContainerRequest,
  StatusRequest,
  StopContainerRequest,
  StopPodSandboxRequest,
  VersionRequest,
  type Container,
  type ExecSyncResponse,
  type PodSandbox,
} from "@plasmacloud/proto/cri";
import type { Metadata } from "@grpc/grpc-js";
import type { UnaryFn } from "@plasmacloud/common/grpc";
import { CodedError, errorCode } from "@plasmacloud/common/errors";
import type { AgentMetrics } from "../observe/metrics";
import { removePodCgroup } from "./cgroups";
import { CriClient } from "./cri-client";
import { ContainerdEvents } from "./events";
import { containerConfig, containerInfo, createdInfo, netnsFromInfo, runState, sandboxConfig, sandboxInfo } from "./convert";
import { L, nodeSelector } from "./labels";
import { MutationStamps } from "./mutations";
import { podLogDir } from "./logs";
import { exitMessage, withTerminationFile } from "./termination";
import type { ContainerInfo, ContainerRequest, ExecSyncResult, ImageUser, PodIdentity, PodRuntime, PodRuntimeState, RegistryAuth, RuntimeChange, RuntimeVersion, SandboxInfo, SandboxRequest, StreamOptions } from "./types";

/** Beyond an ExecSync's own timeout, for the runtime to kill the command and answer. */
const EXEC_SLACK_MS = 10_000;
/** An ExecSync without a timeout (a lifecycle hook) is bounded by its caller's abort; this is the backstop. */
const EXEC_UNBOUNDED_MS = 24 * 3600_000;

export interface CriRuntimeOptions {
  /** unix:///path/to/socket */
  endpoint: string;
  timeoutMs: number;
  metrics: AgentMetrics;
  nodeName: string;
  runtimeHandler: string;
  /** Root of the pods' log directories. */
  podLogsDir: string;
  /** The agent's rootDir: containers' termination-message files live under its pods/<uid>/. */
  rootDir?: string;
}

export class CriRuntime implements PodRuntime {
  private readonly cri: CriClient;
  private readonly events: ContainerdEvents;
  private readonly nodeName: string;
  private readonly runtimeHandler: string;
  private readonly podLogsDir: string;
  private readonly rootDir: string;
  private readonly containerCache = new Map<string, ContainerInfo>();
  private readonly sandboxNet = new Map<string, { ip: string; netns: string; cgroupsPath: string }>();
  private readonly changed = new MutationStamps();

  constructor(o: CriRuntimeOptions) {
    this.cri = new CriClient(o.endpoint, o.timeoutMs, o.metrics);
    this.events = new ContainerdEvents(o.endpoint, this.cri.runtime.getChannel());
    this.nodeName = o.nodeName;
    this.runtimeHandler = o.runtimeHandler;
    this.podLogsDir = o.podLogsDir;
    this.rootDir = o.rootDir ?? "";
  }

  /** containerd's own events on the CRI socket (runtime/events.ts); another CRI runtime answers Unimplemented. */
  watchChanges(signal: AbortSignal, onChange: (c: RuntimeChange) => void): Promise<void> {
    return this.events.watch(signal, onChange);
  }

  mutations(uid?: string): number {
    return this.changed.stamp(uid);
  }

  async version(): Promise<RuntimeVersion> {
    const rt = this.cri.runtime;
    const v = await this.cri.call("Version", rt.version.bind(rt), VersionRequest.fromPartial({ version: "v1" }), 5000);
    return { runtimeName: v.runtimeName, runtimeVersion: v.runtimeVersion, apiVersion: v.runtimeApiVersion };
  }

  async ready(): Promise<{ ready: boolean; reason: string; message: string }> {
    const rt = this.cri.runtime;
    const st = await this.cri.call("Status", rt.status.bind(rt), StatusRequest.fromPartial({}), 5000);
    for (const c of st.status?.conditions ?? []) {
      if ((c.type === "RuntimeReady" || c.type === "NetworkReady") && !c.status) {
        return { ready: false, reason: c.reason || `${c.type}False`, message: c.message };
      }
    }
    return { ready: true, reason: "", message: "" };
  }

  async relist(): Promise<Map<string, PodRuntimeState>> {
    const [sandboxes, containers] = await Promise.all([this.listSandboxes(nodeSelector(this.nodeName)), this.listContainers(nodeSelector(this.nodeName))]);
    const out = new Map<string, PodRuntimeState>();
    const get = (uid: string): PodRuntimeState => {
      let s = out.get(uid);
      if (!s) out.set(uid, (s = { sandboxes: [], containers: [] }));
      return s;
    };
    for (const s of sandboxes) get(s.podUid).sandboxes.push(s);
    for (const c of containers) get(c.podUid).containers.push(c);
    this.prune(sandboxes, containers);
    return out;
  }

  async allSandboxIds(): Promise<string[]> {
    const rt = this.cri.runtime;
    const res = await this.cri.call("ListPodSandbox", rt.listPodSandbox.bind(rt), ListPodSandboxRequest.fromPartial({}));
    return res.items.map((s) => s.id);
  }

  async podState(uid: string): Promise<PodRuntimeState> {
    const sel = { ...nodeSelector(this.nodeName), [L.podUid]: uid };
    const [sandboxes, containers] = await Promise.all([this.listSandboxes(sel), this.listContainers(sel)]);
    return { sandboxes, containers };
  }

  async stateOf(sandboxId: string, containerIds: readonly string[]): Promise<PodRuntimeState> {
    const [sandbox, ...containers] = await Promise.all([this.sandbox(sandboxId), ...containerIds.map((id) => this.containerById(id, sandboxId))]);
    return { sandboxes: sandbox ? [sandbox] : [], containers: containers.filter((c): c is ContainerInfo => c !== undefined) };
  }

  async sandbox(id: string): Promise<SandboxInfo | undefined> {
    const rt = this.cri.runtime;
    try {
      // The verbose info (the runtime spec, a few KiB of JSON) only once: netns and cgroup do not change.
      const known = this.sandboxNet.get(id);
      const st = await this.cri.call("PodSandboxStatus", rt.podSandboxStatus.bind(rt), PodSandboxStatusRequest.fromPartial({ podSandboxId: id, verbose: !known }));
      const s = st.status;
      if (!s) return undefined;
      const info = known ? { netns: known.netns, cgroupsPath: known.cgroupsPath } : netnsFromInfo(st.info);
      const net = { ip: s.network?.ip ?? "", netns: info.netns, cgroupsPath: info.cgroupsPath };
      this.sandboxNet.set(id, net);
      return sandboxInfo({ id: s.id, metadata: s.metadata, state: s.state, createdAt: s.createdAt, labels: s.labels, annotations: s.annotations, runtimeHandler: s.runtimeHandler }, net.ip, net.netns);
    } catch (err) {
      if (errorCode(err) === "NotFound") return undefined;
      throw err;
    }
  }

  private async listSandboxes(labelSelector: Record<string, string>): Promise<SandboxInfo[]> {
    const rt = this.cri.runtime;
    const res = await this.cri.call("ListPodSandbox", rt.listPodSandbox.bind(rt), ListPodSandboxRequest.fromPartial({ filter: { labelSelector } }));
    const out = await Promise.all(res.items.map((s) => this.withNetwork(s)));
    for (const s of out) this.changed.own(s.id, s.podUid);
    return out;
  }

  private async withNetwork(s: PodSandbox): Promise<SandboxInfo> {
    let net = this.sandboxNet.get(s.id);
    if (!net) {
      net = { ip: "", netns: "", cgroupsPath: "" };
      try {
        const rt = this.cri.runtime;
        const st = await this.cri.call("PodSandboxStatus", rt.podSandboxStatus.bind(rt), PodSandboxStatusRequest.fromPartial({ podSandboxId: s.id, verbose: true }));
        const info = netnsFromInfo(st.info);
        net = { ip: st.status?.network?.ip ?? "", netns: info.netns, cgroupsPath: info.cgroupsPath };
        this.sandboxNet.set(s.id, net);
      } catch (err) {
        if (errorCode(err) !== "NotFound") throw err;
      }
    }
    return sandboxInfo(s, net.ip, net.netns);
  }

  private async listContainers(labelSelector: Record<string, string>): Promise<ContainerInfo[]> {
    const rt = this.cri.runtime;
    const res = await this.cri.call("ListContainers", rt.listContainers.bind(rt), ListContainersRequest.fromPartial({ filter: { labelSelector } }));
    const out = (await Promise.all(res.containers.map((c) => this.containerStatus(c)))).filter((c): c is ContainerInfo => c !== undefined);
    for (const c of out) this.changed.own(c.id, c.podUid);
    return out;
  }

  private async containerStatus(c: Container): Promise<ContainerInfo | undefined> {
    const cached = this.containerCache.get(c.id);
    const state = runState(c.state);
    // Running and exited are stable until the state itself changes.
    if (cached && cached.state === state && (state === "running" || state === "exited")) return cached;
    if (state === "created") return createdInfo(c);
    return this.containerById(c.id, c.podSandboxId);
  }

  /** ContainerStatus of container `id` in sandbox `sandboxId` (CRI's status does not name it), into the cache. */
  private async containerById(id: string, sandboxId: string): Promise<ContainerInfo | undefined> {
    try {
      const rt = this.cri.runtime;
      const st = await this.cri.call("ContainerStatus", rt.containerStatus.bind(rt), ContainerStatusRequest.fromPartial({ containerId: id }));
      if (!st.status) return undefined;
      const info = containerInfo(st.status, sandboxId);
      if (info.state === "exited") info.message = await exitMessage(st.status);
      this.containerCache.set(id, info);
      return info;
    } catch (err) {
      if (errorCode(err) === "NotFound") return undefined; // removed between list and status
      throw err;
    }
  }

  /** After a complete list of the node's objects: what the runtime no longer holds is forgotten. */
  private prune(sandboxes: SandboxInfo[], containers: ContainerInfo[]): void {
    const sandboxIds = new Set(sandboxes.map((s) => s.id));
    const containerIds = new Set(containers.map((c) => c.id));
    for (const id of this.containerCache.keys()) if (!containerIds.has(id)) this.containerCache.delete(id);
    for (const id of this.sandboxNet.keys()) if (!sandboxIds.has(id)) this.sandboxNet.delete(id);
    this.changed.prune(new Set([...sandboxIds, ...containerIds]), new Set([...sandboxes.map((s) => s.podUid), ...containers.map((c) => c.podUid)]));
  }

  async imagePresent(image: string): Promise<string | undefined> {
    const im = this.cri.images;
    const res = await this.cri.call("ImageStatus", im.imageStatus.bind(im), ImageStatusRequest.fromPartial({ image: { image } }));
    return res.image?.id || undefined;
  }

  async imageUser(image: string): Promise<ImageUser | undefined> {
    const im = this.cri.images;
    const res = await this.cri.call("ImageStatus", im.imageStatus.bind(im), ImageStatusRequest.fromPartial({ image: { image } }));
    if (!res.image) return undefined;
    return { uid: res.image.uid ? Number(res.image.uid.value) : undefined, username: res.image.username };
  }

  async pullImage(image: string, auth: RegistryAuth | undefined): Promise<string> {
    const im = this.cri.images;
    const req = PullImageRequest.fromPartial({ image: { image }, auth });
    const res = await this.cri.call("PullImage", im.pullImage.bind(im), req, 10 * 60_000);
    return res.imageRef;
  }

  async runSandbox(req: SandboxRequest): Promise<string> {
    this.changed.pod(req.pod.uid);
    const rt = this.cri.runtime;
    const logDir = podLogDir(this.podLogsDir, req.pod);
    await mkdir(logDir, { recursive: true, mode: 0o755 });
    const res = await this.cri.call(
      "RunPodSandbox",
      rt.runPodSandbox.bind(rt),
      RunPodSandboxRequest.fromPartial({ config: sandboxConfig(req, this.nodeName, logDir), runtimeHandler: this.runtimeHandler }),
    );
    this.changed.own(res.podSandboxId, req.pod.uid);
    return res.podSandboxId;
  }

  async stopSandbox(id: string): Promise<void> {
    this.changed.object(id);
    const rt = this.cri.runtime;
    await this.ignoreNotFound(this.cri.call("StopPodSandbox", rt.stopPodSandbox.bind(rt), StopPodSandboxRequest.fromPartial({ podSandboxId: id })));
  }

  async removeSandbox(id: string): Promise<void> {
    this.changed.object(id);
    const rt = this.cri.runtime;
    let cgroupsPath = this.sandboxNet.get(id)?.cgroupsPath ?? "";
    if (!cgroupsPath) {
      try {
        const st = await this.cri.call("PodSandboxStatus", rt.podSandboxStatus.bind(rt), PodSandboxStatusRequest.fromPartial({ podSandboxId: id, verbose: true }));
        cgroupsPath = netnsFromInfo(st.info).cgroupsPath;
      } catch (err) {
        if (errorCode(err) !== "NotFound") throw err;
      }
    }
    await this.ignoreNotFound(this.cri.call("RemovePodSandbox", rt.removePodSandbox.bind(rt), RemovePodSandboxRequest.fromPartial({ podSandboxId: id })));
    this.sandboxNet.delete(id);
    // cgroupfs paths look like "/k8shost/burstable/pod<uid>/<sandbox id>".
    if (cgroupsPath.startsWith("/")) await removePodCgroup(dirname(cgroupsPath));
  }

  async removePod(pod: PodIdentity, sandboxIds: string[]): Promise<void> {
    for (const id of sandboxIds) await this.removeSandbox(id);
    await rm(podLogDir(this.podLogsDir, pod), { recursive: true, force: true });
  }

  async createContainer(sandboxId: string, sandbox: SandboxRequest, req: ContainerRequest): Promise<string> {
    this.changed.pod(sandbox.pod.uid);
    const rt = this.cri.runtime;
    const logDir = podLogDir(this.podLogsDir, sandbox.pod);
    // The runtime opens the log file but makes no directory for it (the kubelet makes it too).
    await mkdir(join(logDir, req.name), { recursive: true, mode: 0o755 });
    const term = await withTerminationFile(this.rootDir, sandbox.pod.uid, req);
    const config = containerConfig(sandbox, term.req, this.nodeName);
    config.annotations = { ...config.annotations, ...term.annotations };
    const res = await this.cri.call(
      "CreateContainer",
      rt.createContainer.bind(rt),
      CreateContainerRequest.fromPartial({ podSandboxId: sandboxId, config, sandboxConfig: sandboxConfig(sandbox, this.nodeName, logDir) }),
    );
    this.changed.own(res.containerId, sandbox.pod.uid);
    return res.containerId;
  }

  async startContainer(id: string): Promise<void> {
    this.changed.object(id);
    const rt = this.cri.runtime;
    await this.cri.call("StartContainer", rt.startContainer.bind(rt), StartContainerRequest.fromPartial({ containerId: id }));
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    this.changed.object(id);
    const rt = this.cri.runtime;
    const req = StopContainerRequest.fromPartial({ containerId: id, timeout: BigInt(Math.max(0, Math.ceil(timeoutSeconds))) });
    await this.ignoreNotFound(this.cri.call("StopContainer", rt.stopContainer.bind(rt), req, (timeoutSeconds + 30) * 1000));
  }

  async removeContainer(id: string): Promise<void> {
    this.changed.object(id);
    const rt = this.cri.runtime;
    await this.ignoreNotFound(this.cri.call("RemoveContainer", rt.removeContainer.bind(rt), RemoveContainerRequest.fromPartial({ containerId: id })));
    this.containerCache.delete(id);
  }

  /** Not counted as a mutation: a command run in a container changes nothing the sync reads. */
  async execSync(containerId: string, cmd: string[], timeoutSeconds: number, signal?: AbortSignal): Promise<ExecSyncResult> {
    const rt = this.cri.runtime;
    const secs = Math.max(0, Math.ceil(timeoutSeconds));
    const req = ExecSyncRequest.fromPartial({ containerId, cmd, timeout: BigInt(secs) });
    // The runtime enforces the timeout; the call's own deadline leaves it time to kill the command.
    const deadlineMs = secs > 0 ? secs * 1000 + EXEC_SLACK_MS : EXEC_UNBOUNDED_MS;
    let cancel: (() => void) | undefined;
    const fn: UnaryFn<ExecSyncRequest, ExecSyncResponse, Metadata> = (r, md, opts, cb) => {
      const call = rt.execSync(r, md, opts, cb);
      cancel = () => call.cancel();
      return call;
    };
    const onAbort = (): void => cancel?.();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      if (signal?.aborted) throw new CodedError("Unavailable", "CRI ExecSync: cancelled before it started");
      const res = await this.cri.call("ExecSync", fn, req, deadlineMs);
      return { exitCode: res.exitCode, stdout: Buffer.from(res.stdout), stderr: Buffer.from(res.stderr) };
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  async reopenContainerLog(id: string): Promise<void> {
    const rt = this.cri.runtime;
    await this.cri.call("ReopenContainerLog", rt.reopenContainerLog.bind(rt), ReopenContainerLogRequest.fromPartial({ containerId: id }));
  }

  async exec(containerId: string, cmd: string[], s: StreamOptions): Promise<string> {
    const rt = this.cri.runtime;
    return (await this.cri.call("Exec", rt.exec.bind(rt), ExecRequest.fromPartial({ containerId, cmd, ...s }), 10_000)).url;
  }

  async attach(containerId: string, s: StreamOptions): Promise<string> {
    const rt = this.cri.runtime;
    return (await this.cri.call("Attach", rt.attach.bind(rt), AttachRequest.fromPartial({ containerId, ...s }), 10_000)).url;
  }

  async portForward(sandboxId: string, ports: number[]): Promise<string> {
    const rt = this.cri.runtime;
    return (await this.cri.call("PortForward", rt.portForward.bind(rt), PortForwardRequest.fromPartial({ podSandboxId: sandboxId, port: ports }), 10_000)).url;
  }

  private async ignoreNotFound(p: Promise<unknown>): Promise<void> {
    try {
      await p;
    } catch (err) {
      if (errorCode(err) !== "NotFound") throw err;
    }
  }

  close(): void {
    this.cri.close();
  }
}
