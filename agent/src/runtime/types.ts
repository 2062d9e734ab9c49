// The runtime seam the pod controller and status code see. Nothing here knows
// CRI or gRPC: another CRI runtime (or a fake in a unit test) fits behind it.
import type { DnsConfig } from "../dns/resolv";

export type ContainerRunState = "created" | "running" | "exited" | "unknown";

export interface SandboxInfo {
  id: string;
  podUid: string;
  /** Who the sandbox was made for, from its labels: enough to release it without the pod object. */
  pod: PodIdentity;
  attempt: number;
  ready: boolean;
  /** ms since epoch */
  createdAt: number;
  /** Primary IP as the runtime saw it ("" when the runtime does not manage the network). */
  ip: string;
  /** Path of the sandbox's network namespace ("" for host network). */
  netnsPath: string;
}

export interface ContainerInfo {
  id: string;
  sandboxId: string;
  podUid: string;
  name: string;
  attempt: number;
  state: ContainerRunState;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  reason: string;
  message: string;
  image: string;
  imageRef: string;
}

export interface PodRuntimeState {
  sandboxes: SandboxInfo[];
  containers: ContainerInfo[];
}

/** A pod's runtime state and when it was read (performance.now() before the read). */
export interface TimedState {
  state: PodRuntimeState;
  at: number;
}

export interface PodIdentity {
  uid: string;
  name: string;
  namespace: string;
  orgId: string;
  projectId: string;
}

/** A seccomp profile; localhostRef is an absolute path on the node (Localhost only). */
export interface SeccompProfile {
  type: "RuntimeDefault" | "Unconfined" | "Localhost";
  localhostRef: string;
}

/** The sandbox's security attributes (the kubelet's LinuxSandboxSecurityContext and sysctls). */
export interface SandboxSecurity {
  /** Host namespaces: network, pid, ipc. */
  hostNetwork: boolean;
  hostPID: boolean;
  hostIPC: boolean;
  runAsUser: number | undefined;
  runAsGroup: number | undefined;
  supplementalGroups: number[];
  /** Some container of the pod is privileged. */
  privileged: boolean;
  seccomp: SeccompProfile;
  sysctls: Record<string, string>;
}

/** One container's security attributes, final: the runtime applies them as they are. */
export interface ContainerSecurity {
  privileged: boolean;
  /** Capability names without CAP_ (or ALL); undefined = the runtime's default set. */
  capabilities: { add: string[]; drop: string[] } | undefined;
  runAsUser: number | undefined;
  /** The image's user by name, when no uid is known (the runtime resolves it in the image). */
  runAsUsername: string;
  runAsGroup: number | undefined;
  supplementalGroups: number[];
  readOnlyRootfs: boolean;
  noNewPrivs: boolean;
  maskedPaths: string[];
  readonlyPaths: string[];
  seccomp: SeccompProfile;
}

export interface SandboxRequest {
  pod: PodIdentity;
  attempt: number;
  hostname: string;
  dns: DnsConfig | undefined;
  portMappings: { protocol: "TCP" | "UDP" | "SCTP"; containerPort: number; hostPort: number; hostIp: string }[];
  cgroupParent: string;
  security: SandboxSecurity;
  /** Passed to the runtime (and by it to CNI plugins that ask for pod annotations). */
  annotations: Record<string, string>;
}

export interface ContainerResources {
  cpuPeriod: number;
  cpuQuota: number;
  cpuShares: number;
  memoryLimitBytes: number;
  oomScoreAdj: number;
}

export interface ContainerRequest {
  name: string;
  attempt: number;
  image: string;
  command: string[];
  args: string[];
  env: { name: string; value: string }[];
  workingDir: string;
  mounts: { containerPath: string; hostPath: string; readOnly: boolean }[];
  resources: ContainerResources;
  security: ContainerSecurity;
  /** The kubelet's termination message file at `path` in the container; none when unset. */
  termination?: { path: string; fallbackToLogs: boolean };
  /** The container's stdin stays open (for attach -i); stdinOnce closes it after the first attach ends. */
  stdin: boolean;
  stdinOnce: boolean;
  /** The container runs on a terminal (for attach -t). */
  tty: boolean;
}

/** Which standard streams a streaming session (CRI Exec, Attach) carries, and whether on a terminal. */
export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** The user an image runs as (CRI ImageStatus): a numeric uid, else a name; neither = unset (root). */
export interface ImageUser {
  uid: number | undefined;
  username: string;
}

export interface RegistryAuth {
  username: string;
  password: string;
  serverAddress: string;
}

/** What a command run through ExecSync left: exit code and output. */
export interface ExecSyncResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

export interface RuntimeVersion {
  runtimeName: string;
  runtimeVersion: string;
  apiVersion: string;
}

/**
 * What a runtime's change events report (watchChanges): the subscription is
 * up (every change from then on is reported), or something changed; `id` is
 * the container or sandbox when known, `exit` that its process exited.
 */
export type RuntimeChange = { kind: "up" } | { kind: "change"; id: string; exit: boolean; /** ms since epoch, the runtime's clock */ createdAt: number };

export interface PodRuntime {
  version(): Promise<RuntimeVersion>;
  /** RuntimeReady and NetworkReady from the runtime's own status. */
  ready(): Promise<{ ready: boolean; reason: string; message: string }>;
  /** Every sandbox and container this agent manages on this node, by pod uid. */
  relist(): Promise<Map<string, PodRuntimeState>>;
  /** Ids of every sandbox the runtime holds, whoever made it. */
  allSandboxIds(): Promise<string[]>;
  /** Fresh state of one pod. */
  podState(uid: string): Promise<PodRuntimeState>;
  /** One sandbox by id (after RunPodSandbox: cheaper than a relist); undefined if gone. */
  sandbox(id: string): Promise<SandboxInfo | undefined>;
  /**
   * One sandbox and the given containers in it, by id: for a caller that
   * knows these are all of a pod's objects (a sandbox it just made and what
   * it made in it), a status call each instead of the pod's two lists.
   */
  stateOf(sandboxId: string, containerIds: readonly string[]): Promise<PodRuntimeState>;
  /** The image's ref when present locally. */
  imagePresent(image: string): Promise<string | undefined>;
  pullImage(image: string, auth: RegistryAuth | undefined): Promise<string>;
  /** The user a local image runs as; undefined when the image is not present. */
  imageUser(image: string): Promise<ImageUser | undefined>;
  /** Runs a sandbox; the pod's log directory is made first. */
  runSandbox(req: SandboxRequest): Promise<string>;
  stopSandbox(id: string): Promise<void>;
  /** Removes one (stopped) sandbox; the pod's logs stay for its next sandbox. */
  removeSandbox(id: string): Promise<void>;
  /** The pod is leaving the node: removes its (stopped) sandboxes, then its log directory. */
  removePod(pod: PodIdentity, sandboxIds: string[]): Promise<void>;
  createContainer(sandboxId: string, sandbox: SandboxRequest, req: ContainerRequest): Promise<string>;
  startContainer(id: string): Promise<void>;
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  /**
   * CRI ExecSync: runs `cmd` in a running container and waits for it. timeoutSeconds > 0 bounds
   * the command (the runtime kills it; a DeadlineExceeded error); 0 = no bound. An abort cancels the call.
   */
  execSync(containerId: string, cmd: string[], timeoutSeconds: number, signal?: AbortSignal): Promise<ExecSyncResult>;
  /** CRI ReopenContainerLog: the runtime opens the container's log path anew (after log rotation renamed it). */
  reopenContainerLog(id: string): Promise<void>;
  /**
   * CRI Exec, Attach and PortForward: the URL on the runtime's streaming server that serves the
   * session (one use, within about a minute). The caller dials it; the node API (nodeapi/) proxies it.
   */
  exec(containerId: string, cmd: string[], streams: StreamOptions): Promise<string>;
  attach(containerId: string, streams: StreamOptions): Promise<string>;
  portForward(sandboxId: string, ports: number[]): Promise<string>;
  /**
   * The runtime's change events, when it has them (the relist then runs on
   * changes, pods/pleg.ts): one subscription, resolved when `signal` aborts,
   * rejected when it fails or drops (code Unimplemented: this runtime has none).
   */
  watchChanges?(signal: AbortSignal, onChange: (c: RuntimeChange) => void): Promise<void>;
  /**
   * Changes with every mutating call that may have changed pod `uid`'s
   * objects (any pod's without `uid`): a sync whose pod saw no change need
   * not read its state again.
   */
  mutations(uid?: string): number;
  close(): void;
}
