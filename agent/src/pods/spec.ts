// Desired runtime objects for a pod: the sandbox and container requests the
// sync loop hands to the runtime. Pure functions of the pod and node settings.
import type { Container, Pod } from "@plasmacloud/proto/k8shost";
import type { HostDns } from "../dns/resolv";
import type { ContainerEnvironment } from "../env/resolve";
import { containerResources, podCgroupParent, qosClass } from "../resources/qos";
import type { ContainerRequest, ImageUser, PodIdentity, SandboxRequest } from "../runtime/types";
import type { PodHosts } from "../volumes/etc-hosts";
import { longRunning } from "./containers";
import { containerSecurity, sandboxSecurity, type NodeSecurityPolicy } from "./security";
import { terminationSpec } from "./termination";

export interface NodeSettings {
  nodeName: string;
  cgroupRoot: string;
  clusterDNS: { servers: string[]; domain: string };
  /** The host's resolver settings, for pods that inherit them. */
  hostDNS: HostDns;
  memoryCapacityBytes: number;
  security: NodeSecurityPolicy;
}

export const DEFAULT_GRACE_SECONDS = 30;

export function identity(pod: Pod): PodIdentity {
  const m = pod.metadata!;
  return { uid: m.uid, name: m.name, namespace: m.namespace || "default", orgId: m.orgId, projectId: m.projectId };
}

/** The kubelet's DNS rules: ClusterFirst gets FlashDNS and the service search path. */
export function dnsConfig(pod: Pod, settings: NodeSettings): SandboxRequest["dns"] {
  const spec = pod.spec!;
  let policy = spec.dnsPolicy || "ClusterFirst";
  if (policy === "ClusterFirst" && spec.hostNetwork) policy = "Default";
  if (policy === "ClusterFirstWithHostNet") policy = "ClusterFirst";
  if (policy === "None") return { servers: [], searches: [], options: [] };
  if (policy === "ClusterFirst" && settings.clusterDNS.servers.length > 0) {
    const d = settings.clusterDNS.domain;
    const ns = pod.metadata?.namespace || "default";
    return { servers: settings.clusterDNS.servers, searches: [`${ns}.svc.${d}`, `svc.${d}`, d], options: ["ndots:5"] };
  }
  // Default, or ClusterFirst on a node without cluster DNS (the kubelet falls back too).
  return settings.hostDNS.current();
}

/** The kubelet's GeneratePodHostNameAndDomain: spec.hostname or the pod's name, at most 63 characters. */
export function podHostname(pod: Pod): string {
  return (pod.spec!.hostname || pod.metadata!.name).slice(0, 63).replace(/[.-]+$/, "");
}

/** What the pod's managed /etc/hosts says of it; its domain only when it names a subdomain. */
export function podHosts(pod: Pod, ips: string[], clusterDomain: string): PodHosts {
  const spec = pod.spec!;
  const ns = pod.metadata!.namespace || "default";
  return {
    ips,
    hostName: podHostname(pod),
    hostDomain: spec.subdomain ? `${spec.subdomain}.${ns}.svc.${clusterDomain}` : "",
    hostAliases: spec.hostAliases,
    hostNetwork: spec.hostNetwork,
  };
}

export function sandboxRequest(pod: Pod, attempt: number, settings: NodeSettings, annotations: Record<string, string> = {}): SandboxRequest {
  const spec = pod.spec!;
  const id = identity(pod);
  const ports: SandboxRequest["portMappings"] = [];
  // Sidecars serve beside the app containers: their ports are the pod's too.
  for (const c of longRunning(spec)) {
    for (const p of c.ports) {
      const protocol = (p.protocol || "TCP") as "TCP" | "UDP" | "SCTP";
      ports.push({ protocol, containerPort: p.containerPort, hostPort: p.hostPort, hostIp: p.hostIp });
    }
  }
  return {
    pod: id,
    attempt,
    hostname: podHostname(pod),
    dns: dnsConfig(pod, settings),
    portMappings: ports,
    cgroupParent: podCgroupParent(settings.cgroupRoot, qosClass(spec), id.uid),
    security: sandboxSecurity(pod, settings.security),
    annotations,
  };
}

export function containerRequest(
  pod: Pod,
  c: Container,
  attempt: number,
  imageRef: string,
  mounts: ContainerRequest["mounts"],
  settings: NodeSettings,
  imageUser?: ImageUser,
  /** The final env, command and args (env/resolve.ts); the spec's as written when absent. */
  resolved?: ContainerEnvironment,
): ContainerRequest {
  return {
    name: c.name,
    attempt,
    image: imageRef,
    command: resolved?.command ?? c.command,
    args: resolved?.args ?? c.args,
    env: resolved?.env ?? c.env.map((e) => ({ name: e.name, value: e.value })),
    termination: terminationSpec(c),
    workingDir: c.workingDir,
    mounts,
    resources: containerResources(c, qosClass(pod.spec!), settings.memoryCapacityBytes),
    security: containerSecurity(pod, c, settings.security, imageUser),
    stdin: c.stdin,
    stdinOnce: c.stdinOnce,
    tty: c.tty,
  };
}

/** The kubelet's default: Always for ":latest" or no tag, else IfNotPresent. */
export function pullPolicy(c: Container): "Always" | "IfNotPresent" | "Never" {
  if (c.imagePullPolicy) return c.imagePullPolicy as "Always" | "IfNotPresent" | "Never";
  if (c.image.includes("@")) return "IfNotPresent";
  const last = c.image.split("/").pop() ?? "";
  const tag = last.includes(":") ? last.split(":").pop() : "";
  return !tag || tag === "latest" ? "Always" : "IfNotPresent";
}

export function graceSeconds(pod: Pod): number {
  const d = pod.metadata?.deletionGracePeriodSeconds;
  if (d !== undefined) return Number(d);
  const t = pod.spec?.terminationGracePeriodSeconds;
  return t !== undefined ? Number(t) : DEFAULT_GRACE_SECONDS;
}
