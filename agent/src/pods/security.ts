// Security contexts, the kubelet's way: the container's fields override the
// pod's (DetermineEffectiveSecurityContext), then the result becomes the
// runtime's sandbox and container security attributes. Pure functions.
import type { Container, Pod, SeccompProfile as PodSeccompProfile, SecurityContext } from "@plasmacloud/proto/k8shost";
import type { ContainerSecurity, ImageUser, SandboxSecurity, SeccompProfile } from "../runtime/types";
import { normalizeSysctl } from "./linux-names";
import { allContainers } from "./containers";

/** What the node allows pods at all, and its seccomp defaults (agent config `security`). */
export interface NodeSecurityPolicy {
  allowPrivileged: boolean;
  /** Capabilities a container may add; "*" allows any (and ALL). */
  allowedCapabilities: string[];
  /** hostNetwork, hostPID, hostIPC. */
  allowHostNamespaces: boolean;
  /** Sysctls beyond the kubelet's safe set: names or "prefix*" patterns. */
  allowedUnsafeSysctls: string[];
  /** RuntimeDefault instead of Unconfined for containers that name no profile (the kubelet's seccompDefault). */
  seccompDefault: boolean;
  /** Where Localhost seccomp profiles live (the kubelet's <root>/seccomp). */
  seccompProfileRoot: string;
}

/** The kubelet's defaults (moby's), masked and read-only in every container that is not privileged. */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  "/proc/asound",
  "/proc/acpi",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
];
export const DEFAULT_READONLY_PATHS: readonly string[] = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

const num = (v: bigint | undefined): number | undefined => (v === undefined ? undefined : Number(v));

/** The container's security context with the pod's run_as_* and seccomp where the container sets none. */
export function effectiveSecurityContext(pod: Pod, c: Container): SecurityContext {
  const p = pod.spec?.securityContext;
  const sc = c.securityContext;
  return {
    capabilities: sc?.capabilities,
    privileged: sc?.privileged,
    runAsUser: sc?.runAsUser ?? p?.runAsUser,
    runAsGroup: sc?.runAsGroup ?? p?.runAsGroup,
    runAsNonRoot: sc?.runAsNonRoot ?? p?.runAsNonRoot,
    readOnlyRootFilesystem: sc?.readOnlyRootFilesystem,
    allowPrivilegeEscalation: sc?.allowPrivilegeEscalation,
    seccompProfile: sc?.seccompProfile ?? p?.seccompProfile,
  };
}

function seccomp(p: PodSeccompProfile | undefined, policy: NodeSecurityPolicy): SeccompProfile {
  if (!p) return { type: policy.seccompDefault ? "RuntimeDefault" : "Unconfined", localhostRef: "" };
  if (p.type === "RuntimeDefault") return { type: "RuntimeDefault", localhostRef: "" };
  if (p.type === "Localhost") return { type: "Localhost", localhostRef: `${policy.seccompProfileRoot.replace(/\/+$/, "")}/${p.localhostProfile}` };
  return { type: "Unconfined", localhostRef: "" };
}

/** fsGroup first, then supplementalGroups: the kubelet's order, for the sandbox and every container. */
function podGroups(pod: Pod): number[] {
  const p = pod.spec?.securityContext;
  const out: number[] = [];
  if (p?.fsGroup !== undefined) out.push(Number(p.fsGroup));
  for (const g of p?.supplementalGroups ?? []) out.push(Number(g));
  return out;
}

export function sandboxSecurity(pod: Pod, policy: NodeSecurityPolicy): SandboxSecurity {
  const spec = pod.spec!;
  const p = spec.securityContext;
  const sysctls: Record<string, string> = {};
  for (const s of p?.sysctls ?? []) sysctls[normalizeSysctl(s.name)] = s.value;
  return {
    hostNetwork: spec.hostNetwork,
    hostPID: spec.hostPid,
    hostIPC: spec.hostIpc,
    runAsUser: num(p?.runAsUser),
    runAsGroup: num(p?.runAsGroup),
    supplementalGroups: podGroups(pod),
    privileged: allContainers(spec).some((c) => c.securityContext?.privileged === true),
    // The kubelet runs every sandbox under RuntimeDefault, so pods may pick stricter profiles of their own.
    seccomp: { type: "RuntimeDefault", localhostRef: "" },
    sysctls,
  };
}

/**
 * Whether the container's user must be read from its image: to check
 * runAsNonRoot, or because a group alone is set (the runtime needs a user with it).
 */
export function needsImageUser(pod: Pod, c: Container): boolean {
  const e = effectiveSecurityContext(pod, c);
  return e.runAsUser === undefined && (e.runAsNonRoot === true || e.runAsGroup !== undefined);
}

const podRef = (pod: Pod): string => `${pod.metadata?.name}_${pod.metadata?.namespace || "default"}(${pod.metadata?.uid})`;

/**
 * The kubelet's verifyRunAsNonRoot: why the container may not start (its
 * user is root, or a name that cannot be checked), or undefined. `image`
 * undefined or without a user means root, as for the kubelet.
 */
export function verifyRunAsNonRoot(pod: Pod, c: Container, image: ImageUser | undefined): string | undefined {
  const e = effectiveSecurityContext(pod, c);
  if (e.runAsNonRoot !== true) return undefined;
  const where = `(pod: "${podRef(pod)}", container: ${c.name})`;
  if (e.runAsUser !== undefined) return e.runAsUser === 0n ? `container's runAsUser breaks non-root policy ${where}` : undefined;
  const uid = image?.uid ?? (image?.username ? undefined : 0);
  if (uid === 0) return `container has runAsNonRoot and image will run as root ${where}`;
  if (uid === undefined) return `container has runAsNonRoot and image has non-numeric user (${image?.username}), cannot verify user is non-root ${where}`;
  return undefined;
}

/**
 * The container's final security attributes (the kubelet's
 * determineEffectiveSecurityContext). `image` is the image's user when
 * needsImageUser said so: it fills in the user a lone runAsGroup needs.
 */
export function containerSecurity(pod: Pod, c: Container, policy: NodeSecurityPolicy, image?: ImageUser): ContainerSecurity {
  const e = effectiveSecurityContext(pod, c);
  const privileged = e.privileged === true;
  let runAsUser = num(e.runAsUser);
  let runAsUsername = "";
  if (runAsUser === undefined && e.runAsGroup !== undefined) {
    if (image?.uid !== undefined) runAsUser = image.uid;
    else if (image?.username) runAsUsername = image.username;
    else runAsUser = 0;
  }
  return {
    privileged,
    capabilities: e.capabilities ? { add: e.capabilities.add.map((x) => x.toUpperCase()), drop: e.capabilities.drop.map((x) => x.toUpperCase()) } : undefined,
    runAsUser,
    runAsUsername,
    runAsGroup: num(e.runAsGroup),
    supplementalGroups: podGroups(pod),
    readOnlyRootfs: e.readOnlyRootFilesystem === true,
    // Only an explicit false sets no_new_privs, as in the kubelet's AddNoNewPrivileges.
    noNewPrivs: e.allowPrivilegeEscalation === false,
    maskedPaths: privileged ? [] : [...DEFAULT_MASKED_PATHS],
    readonlyPaths: privileged ? [] : [...DEFAULT_READONLY_PATHS],
    seccomp: seccomp(e.seccompProfile, policy),
  };
}
