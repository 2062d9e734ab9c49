// The node's security policy applied to a pod before anything is made for it:
// privileged containers, added capabilities, host namespaces and unsafe
// sysctls are refused unless the node's config allows them. Each refusal
// names the field and the config rule that refused it.
import type { Pod } from "@plasmacloud/proto/k8shost";
import { normalizeSysctl, SAFE_SYSCTLS, sysctlNamespace } from "./linux-names";
import type { NodeSecurityPolicy } from "./security";
import { specContainers } from "./containers";

export interface PolicyRefusal {
  /** The container refused; undefined when the pod as a whole is. */
  container: string | undefined;
  /** The status reason: CreateContainerConfigError, or the pod-level CreatePodSandboxError / SysctlForbidden. */
  reason: "CreateContainerConfigError" | "CreatePodSandboxError" | "SysctlForbidden";
  message: string;
}

function capabilityAllowed(cap: string, allowed: string[]): boolean {
  const up = cap.toUpperCase();
  // Adding ALL grants every capability, so allowing ALL is allowing any ("*").
  return allowed.some((a) => a === "*" || a.toUpperCase() === "ALL" || a.toUpperCase() === up);
}

function sysctlAllowed(name: string, allowed: string[]): boolean {
  if (SAFE_SYSCTLS.has(name)) return true;
  return allowed.some((p) => (p.endsWith("*") ? name.startsWith(normalizeSysctl(p.slice(0, -1))) : normalizeSysctl(p) === name));
}

/** Every rule the pod breaks on this node; empty when it may run. */
export function policyRefusals(pod: Pod, policy: NodeSecurityPolicy): PolicyRefusal[] {
  const spec = pod.spec!;
  const out: PolicyRefusal[] = [];
  if (!policy.allowHostNamespaces) {
    for (const [field, on] of [["hostNetwork", spec.hostNetwork], ["hostPID", spec.hostPid], ["hostIPC", spec.hostIpc]] as const) {
      if (on) out.push({ container: undefined, reason: "CreatePodSandboxError", message: `spec.${field}: host namespaces are not allowed on this node (security.allowHostNamespaces)` });
    }
  }
  for (const [i, s] of (spec.securityContext?.sysctls ?? []).entries()) {
    const name = normalizeSysctl(s.name);
    const f = `spec.securityContext.sysctls[${i}].name`;
    const ns = sysctlNamespace(name);
    let why: string | undefined;
    if (!sysctlAllowed(name, policy.allowedUnsafeSysctls)) why = `sysctl "${name}" is not in the safe set and not allowed on this node (security.allowedUnsafeSysctls)`;
    else if (ns === undefined) why = `sysctl "${name}" is not namespaced: it would change the node`;
    else if (ns === "net" && spec.hostNetwork) why = `sysctl "${name}" is not allowed with hostNetwork`;
    else if (ns === "ipc" && spec.hostIpc) why = `sysctl "${name}" is not allowed with hostIPC`;
    if (why) out.push({ container: undefined, reason: "SysctlForbidden", message: `${f}: ${why}` });
  }
  for (const { c, field } of specContainers(spec)) {
    const f = `${field}.securityContext`;
    const sc = c.securityContext;
    if (sc?.privileged === true && !policy.allowPrivileged) {
      out.push({ container: c.name, reason: "CreateContainerConfigError", message: `${f}.privileged: privileged containers are not allowed on this node (security.allowPrivileged)` });
    }
    for (const [j, cap] of (sc?.capabilities?.add ?? []).entries()) {
      if (capabilityAllowed(cap, policy.allowedCapabilities)) continue;
      out.push({ container: c.name, reason: "CreateContainerConfigError", message: `${f}.capabilities.add[${j}]: capability ${cap.toUpperCase()} is not allowed on this node (security.allowedCapabilities)` });
    }
  }
  return out;
}
