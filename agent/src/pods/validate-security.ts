// Validation of the pod's and the containers' security contexts, with the
// Kubernetes API's rules: the first problem, named by its field path.
import type { PodSpec, SeccompProfile } from "@plasmacloud/proto/k8shost";
import { FS_GROUP_CHANGE_POLICIES, type FSGroupChangePolicy } from "../volumes/ownership";
import { capabilityProblem, normalizeSysctl, sysctlNameProblem } from "./linux-names";
import { specContainers } from "./containers";

const MAX_ID = 2147483647n;

function idProblem(field: string, v: bigint | undefined): string | undefined {
  if (v === undefined || (v >= 0n && v <= MAX_ID)) return undefined;
  return `${field}: ${v} must be between 0 and ${MAX_ID}, inclusive`;
}

function seccompProblem(field: string, p: SeccompProfile | undefined): string | undefined {
  if (!p) return undefined;
  if (!["RuntimeDefault", "Unconfined", "Localhost"].includes(p.type)) return `${field}.type: '${p.type}' is not one of RuntimeDefault, Unconfined, Localhost`;
  if (p.type !== "Localhost") return p.localhostProfile ? `${field}.localhostProfile: can only be set for type Localhost` : undefined;
  const lp = p.localhostProfile;
  if (!lp) return `${field}.localhostProfile: must be set for type Localhost`;
  if (lp.startsWith("/") || lp.split("/").includes("..")) return `${field}.localhostProfile: '${lp}' must be a relative path without '..'`;
  return undefined;
}

export function validateSecurity(s: PodSpec): string | undefined {
  const p = s.securityContext;
  if (p) {
    const f = "spec.securityContext";
    const bad =
      idProblem(`${f}.runAsUser`, p.runAsUser) ??
      idProblem(`${f}.runAsGroup`, p.runAsGroup) ??
      idProblem(`${f}.fsGroup`, p.fsGroup) ??
      p.supplementalGroups.map((g, i) => idProblem(`${f}.supplementalGroups[${i}]`, g)).find((x) => x) ??
      seccompProblem(`${f}.seccompProfile`, p.seccompProfile);
    if (bad) return bad;
    const change = p.fsGroupChangePolicy;
    if (change !== undefined && !FS_GROUP_CHANGE_POLICIES.includes(change as FSGroupChangePolicy)) return `${f}.fsGroupChangePolicy: '${change}' is not one of ${FS_GROUP_CHANGE_POLICIES.join(", ")}`;
    const names = new Set<string>();
    for (const [i, sc] of p.sysctls.entries()) {
      const problem = sysctlNameProblem(sc.name);
      if (problem) return `${f}.sysctls[${i}].name: ${problem}`;
      const n = normalizeSysctl(sc.name);
      if (names.has(n)) return `${f}.sysctls[${i}].name: duplicate sysctl '${sc.name}'`;
      names.add(n);
    }
  }
  for (const { c, field } of specContainers(s)) {
    const sc = c.securityContext;
    if (!sc) continue;
    const f = `${field}.securityContext`;
    const bad = idProblem(`${f}.runAsUser`, sc.runAsUser) ?? idProblem(`${f}.runAsGroup`, sc.runAsGroup) ?? seccompProblem(`${f}.seccompProfile`, sc.seccompProfile);
    if (bad) return bad;
    for (const kind of ["add", "drop"] as const) {
      for (const [j, cap] of (sc.capabilities?.[kind] ?? []).entries()) {
        const problem = capabilityProblem(cap);
        if (problem) return `${f}.capabilities.${kind}[${j}]: ${problem}`;
      }
    }
    if (sc.allowPrivilegeEscalation === false) {
      if (sc.privileged === true) return `${f}.allowPrivilegeEscalation: cannot be false when privileged is true`;
      if (sc.capabilities?.add.some((x) => x.toUpperCase() === "SYS_ADMIN")) return `${f}.allowPrivilegeEscalation: cannot be false when capabilities.add has SYS_ADMIN`;
    }
  }
  return undefined;
}
