// Mapping between the agent's runtime requests and CRI messages.
import {
  ContainerConfig,
  ContainerState,
  NamespaceMode,
  PodSandboxConfig,
  PodSandboxState,
  Protocol,
  SecurityProfile_ProfileType,
  type Container,
  type ContainerStatus,
  type Int64Value,
  type LinuxContainerSecurityContext,
  type LinuxSandboxSecurityContext,
  type NamespaceOption,
  type PodSandbox,
  type SecurityProfile,
} from "@plasmacloud/proto/cri";
import { L, MANAGER } from "./labels";
import { containerLogPath } from "./logs";
import type { ContainerInfo, ContainerRequest, ContainerRunState, ContainerSecurity, SandboxInfo, SandboxRequest, SandboxSecurity, SeccompProfile } from "./types";

export const nsToMs = (ns: bigint): number => Number(ns / 1_000_000n);

const int64 = (v: number | undefined): Int64Value | undefined => (v === undefined ? undefined : { value: BigInt(v) });

/** Pod-wide namespaces, or the node's where the pod asks for them; each container has its own pid namespace. */
function namespaces(s: SandboxSecurity): NamespaceOption {
  return {
    network: s.hostNetwork ? NamespaceMode.NODE : NamespaceMode.POD,
    pid: s.hostPID ? NamespaceMode.NODE : NamespaceMode.CONTAINER,
    ipc: s.hostIPC ? NamespaceMode.NODE : NamespaceMode.POD,
    targetId: "",
  };
}

export function securityProfile(p: SeccompProfile): SecurityProfile {
  const type = { RuntimeDefault: SecurityProfile_ProfileType.RuntimeDefault, Unconfined: SecurityProfile_ProfileType.Unconfined, Localhost: SecurityProfile_ProfileType.Localhost }[p.type];
  return { profileType: type, localhostRef: p.type === "Localhost" ? p.localhostRef : "" };
}

export function sandboxSecurityContext(s: SandboxSecurity): LinuxSandboxSecurityContext {
  return {
    namespaceOptions: namespaces(s),
    runAsUser: int64(s.runAsUser),
    runAsGroup: int64(s.runAsGroup),
    readonlyRootfs: false,
    supplementalGroups: s.supplementalGroups.map(BigInt),
    privileged: s.privileged,
    seccomp: securityProfile(s.seccomp),
  };
}

export function containerSecurityContext(sandbox: SandboxSecurity, c: ContainerSecurity): LinuxContainerSecurityContext {
  return {
    capabilities: c.capabilities ? { addCapabilities: c.capabilities.add, dropCapabilities: c.capabilities.drop } : undefined,
    privileged: c.privileged,
    namespaceOptions: namespaces(sandbox),
    runAsUser: int64(c.runAsUser),
    runAsUsername: c.runAsUser === undefined ? c.runAsUsername : "",
    readonlyRootfs: c.readOnlyRootfs,
    supplementalGroups: c.supplementalGroups.map(BigInt),
    noNewPrivs: c.noNewPrivs,
    runAsGroup: int64(c.runAsGroup),
    maskedPaths: c.maskedPaths,
    readonlyPaths: c.readonlyPaths,
    seccomp: securityProfile(c.seccomp),
  };
}

export function sandboxConfig(req: SandboxRequest, nodeName: string, logDirectory: string): PodSandboxConfig {
  const p = req.pod;
  const proto = { TCP: Protocol.TCP, UDP: Protocol.UDP, SCTP: Protocol.SCTP } as const;
  return PodSandboxConfig.fromPartial({
    metadata: { name: p.name, uid: p.uid, namespace: p.namespace, attempt: req.attempt },
    hostname: req.hostname,
    logDirectory,
    dnsConfig: req.dns,
    portMappings: req.portMappings.map((m) => ({ protocol: proto[m.protocol], containerPort: m.containerPort, hostPort: m.hostPort, hostIp: m.hostIp })),
    labels: {
      [L.podUid]: p.uid,
      [L.podName]: p.name,
      [L.podNamespace]: p.namespace,
      [L.managedBy]: MANAGER,
      [L.node]: nodeName,
      [L.orgId]: p.orgId,
      [L.projectId]: p.projectId,
    },
    annotations: req.annotations,
    linux: {
      cgroupParent: req.cgroupParent,
      securityContext: sandboxSecurityContext(req.security),
      sysctls: req.security.sysctls,
    },
  });
}

export function containerConfig(sandbox: SandboxRequest, req: ContainerRequest, nodeName: string): ContainerConfig {
  const r = req.resources;
  return ContainerConfig.fromPartial({
    metadata: { name: req.name, attempt: req.attempt },
    image: { image: req.image },
    command: req.command,
    args: req.args,
    workingDir: req.workingDir,
    envs: req.env.map((e) => ({ key: e.name, value: e.value })),
    mounts: req.mounts.map((m) => ({ containerPath: m.containerPath, hostPath: m.hostPath, readonly: m.readOnly })),
    labels: {
      [L.podUid]: sandbox.pod.uid,
      [L.podName]: sandbox.pod.name,
      [L.podNamespace]: sandbox.pod.namespace,
      [L.containerName]: req.name,
      [L.managedBy]: MANAGER,
      [L.node]: nodeName,
    },
    logPath: containerLogPath(req.name, req.attempt),
    stdin: req.stdin,
    stdinOnce: req.stdinOnce,
    tty: req.tty,
    linux: {
      resources: {
        cpuPeriod: BigInt(r.cpuPeriod),
        cpuQuota: BigInt(r.cpuQuota),
        cpuShares: BigInt(r.cpuShares),
        memoryLimitInBytes: BigInt(r.memoryLimitBytes),
        oomScoreAdj: BigInt(r.oomScoreAdj),
      },
      securityContext: containerSecurityContext(sandbox.security, req.security),
    },
  });
}

export function sandboxInfo(s: PodSandbox, ip: string, netnsPath: string): SandboxInfo {
  const uid = s.labels[L.podUid] ?? s.metadata?.uid ?? "";
  return {
    id: s.id,
    podUid: uid,
    pod: {
      uid,
      name: s.labels[L.podName] ?? s.metadata?.name ?? "",
      namespace: s.labels[L.podNamespace] ?? s.metadata?.namespace ?? "",
      orgId: s.labels[L.orgId] ?? "",
      projectId: s.labels[L.projectId] ?? "",
    },
    attempt: s.metadata?.attempt ?? 0,
    ready: s.state === PodSandboxState.SANDBOX_READY,
    createdAt: nsToMs(s.createdAt),
    ip,
    netnsPath,
  };
}

const states: Record<number, ContainerRunState> = {
  [ContainerState.CONTAINER_CREATED]: "created",
  [ContainerState.CONTAINER_RUNNING]: "running",
  [ContainerState.CONTAINER_EXITED]: "exited",
  [ContainerState.CONTAINER_UNKNOWN]: "unknown",
};

export function runState(s: ContainerState): ContainerRunState {
  return states[s] ?? "unknown";
}

export function containerInfo(st: ContainerStatus, sandboxId: string): ContainerInfo {
  return {
    id: st.id,
    sandboxId,
    podUid: st.labels[L.podUid] ?? "",
    name: st.labels[L.containerName] ?? st.metadata?.name ?? "",
    attempt: st.metadata?.attempt ?? 0,
    state: runState(st.state),
    createdAt: nsToMs(st.createdAt),
    startedAt: nsToMs(st.startedAt),
    finishedAt: nsToMs(st.finishedAt),
    exitCode: st.exitCode,
    reason: st.reason,
    message: st.message,
    image: st.image?.image ?? "",
    imageRef: st.imageRef,
  };
}

/** A container not started yet, from its list item: it has no start, exit or reason for a status call to add. */
export function createdInfo(c: Container): ContainerInfo {
  return {
    id: c.id,
    sandboxId: c.podSandboxId,
    podUid: c.labels[L.podUid] ?? "",
    name: c.labels[L.containerName] ?? c.metadata?.name ?? "",
    attempt: c.metadata?.attempt ?? 0,
    state: "created",
    createdAt: nsToMs(c.createdAt),
    startedAt: 0,
    finishedAt: 0,
    exitCode: 0,
    reason: "",
    message: "",
    image: c.image?.image ?? "",
    imageRef: c.imageRef,
  };
}

/** The network namespace path from a verbose PodSandboxStatus (containerd's info JSON). */
export function netnsFromInfo(info: Record<string, string>): { netns: string; cgroupsPath: string } {
  try {
    const parsed = JSON.parse(info.info ?? "{}") as {
      runtimeSpec?: { linux?: { namespaces?: { type: string; path?: string }[]; cgroupsPath?: string } };
    };
    const linux = parsed.runtimeSpec?.linux;
    const ns = linux?.namespaces?.find((n) => n.type === "network");
    return { netns: ns?.path ?? "", cgroupsPath: linux?.cgroupsPath ?? "" };
  } catch {
    return { netns: "", cgroupsPath: "" };
  }
}
