// Pod spec validation on the node: the first problem, named by field path, so
// the pod's status says exactly what to fix.
import { isIP } from "node:net";
import type { Container, HostAlias, Pod, Volume } from "@plasmacloud/proto/k8shost";
import { envProblem } from "../env/validate";
import { validateProbesAndHooks } from "../probes/validate";
import { parseQuantity } from "../resources/quantity";
import { specContainers, type ContainerKind } from "./containers";
import { terminationProblem } from "./termination";
import { tolerationsProblem } from "./tolerations";
import { validateSecurity } from "./validate-security";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const RESTART = ["", "Always", "OnFailure", "Never"];
const PULL = ["", "Always", "IfNotPresent", "Never"];
const DNS = ["", "ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"];
const PROTO = ["", "TCP", "UDP", "SCTP"];

export function validatePod(pod: Pod, supportedVolume: (v: Volume) => string | undefined): string | undefined {
  const m = pod.metadata;
  if (!m?.uid) return "metadata.uid: must not be empty";
  if (!m.name) return "metadata.name: must not be empty";
  const s = pod.spec;
  if (!s) return "spec: must be set";
  if (s.containers.length === 0) return "spec.containers: at least one container is required";
  if (!RESTART.includes(s.restartPolicy)) return `spec.restartPolicy: '${s.restartPolicy}' is not one of Always, OnFailure, Never`;
  if (!DNS.includes(s.dnsPolicy)) return `spec.dnsPolicy: '${s.dnsPolicy}' is not one of ClusterFirst, ClusterFirstWithHostNet, Default, None`;
  if (s.terminationGracePeriodSeconds !== undefined && s.terminationGracePeriodSeconds < 0n) return "spec.terminationGracePeriodSeconds: must be >= 0";
  const tolerations = tolerationsProblem(s.tolerations);
  if (tolerations) return tolerations;
  const aliases = hostAliasesProblem(s.hostAliases);
  if (aliases) return aliases;
  const volumes = new Set<string>();
  for (const [i, v] of s.volumes.entries()) {
    const f = `spec.volumes[${i}]`;
    if (!DNS_LABEL.test(v.name)) return `${f}.name: '${v.name}' is not a DNS label`;
    if (volumes.has(v.name)) return `${f}.name: duplicate volume '${v.name}'`;
    volumes.add(v.name);
    const problem = supportedVolume(v);
    if (problem) return `${f}: ${problem}`;
  }
  const names = new Set<string>();
  for (const { c, kind, field: f } of specContainers(s)) {
    if (!DNS_LABEL.test(c.name) || c.name.length > 63) return `${f}.name: '${c.name}' is not a DNS label`;
    if (names.has(c.name)) return `${f}.name: duplicate container name '${c.name}'`;
    names.add(c.name);
    const kindProblem = initRules(c, kind, f);
    if (kindProblem) return kindProblem;
    if (!c.image.trim()) return `${f}.image: must not be empty`;
    if (/\s/.test(c.image)) return `${f}.image: '${c.image}' contains whitespace`;
    if (!PULL.includes(c.imagePullPolicy)) return `${f}.imagePullPolicy: '${c.imagePullPolicy}' is not one of Always, IfNotPresent, Never`;
    for (const kind of ["requests", "limits"] as const) {
      for (const [k, q] of Object.entries(c.resources?.[kind] ?? {})) {
        if (parseQuantity(q) === undefined) return `${f}.resources.${kind}.${k}: '${q}' is not a valid quantity`;
      }
    }
    for (const r of ["cpu", "memory"]) {
      const req = c.resources?.requests[r];
      const lim = c.resources?.limits[r];
      if (req && lim && (parseQuantity(req) ?? 0) > (parseQuantity(lim) ?? 0)) return `${f}.resources.requests.${r}: '${req}' exceeds the limit '${lim}'`;
    }
    for (const [j, p] of c.ports.entries()) {
      if (p.containerPort < 1 || p.containerPort > 65535) return `${f}.ports[${j}].containerPort: ${p.containerPort} is not 1-65535`;
      if (p.hostPort < 0 || p.hostPort > 65535) return `${f}.ports[${j}].hostPort: ${p.hostPort} is not 0-65535`;
      if (!PROTO.includes(p.protocol)) return `${f}.ports[${j}].protocol: '${p.protocol}' is not one of TCP, UDP, SCTP`;
    }
    for (const [j, e] of c.env.entries()) if (!e.name || e.name.includes("=")) return `${f}.env[${j}].name: '${e.name}' is not a valid variable name`;
    const envOrTermination = envProblem(c, f) ?? terminationProblem(c, f) ?? validateProbesAndHooks(s, c, f);
    if (envOrTermination) return envOrTermination;
    for (const [j, vm] of c.volumeMounts.entries()) {
      if (!volumes.has(vm.name)) return `${f}.volumeMounts[${j}].name: no volume named '${vm.name}'`;
      if (!vm.mountPath.startsWith("/")) return `${f}.volumeMounts[${j}].mountPath: '${vm.mountPath}' must be absolute`;
      if (vm.subPath.startsWith("/") || vm.subPath.split("/").includes("..")) return `${f}.volumeMounts[${j}].subPath: '${vm.subPath}' must be a relative path without '..'`;
    }
  }
  return validateSecurity(s);
}

/** The API server's rules for init containers and sidecars (validation.go). */
/** The API server's ValidateHostAliases: a valid IP, and each hostname a DNS subdomain. */
function hostAliasesProblem(aliases: readonly HostAlias[]): string | undefined {
  for (const [i, a] of aliases.entries()) {
    const f = `spec.hostAliases[${i}]`;
    if (isIP(a.ip) === 0) return `${f}.ip: '${a.ip}' must be a valid IP address`;
    for (const [j, h] of a.hostnames.entries()) {
      if (h.length > 253 || !DNS_SUBDOMAIN.test(h)) return `${f}.hostnames[${j}]: '${h}' is not a DNS subdomain name (lowercase letters, digits, '-' and '.')`;
    }
  }
  return undefined;
}

function initRules(c: Container, kind: ContainerKind, f: string): string | undefined {
  const policy = c.restartPolicy;
  if (kind === "app") return policy !== undefined ? `${f}.restartPolicy: may not be set for non-init containers` : undefined;
  if (policy !== undefined && policy !== "Always") return `${f}.restartPolicy: '${policy}' is not supported: only Always (a sidecar) or unset`;
  if (kind === "sidecar") return undefined;
  // A regular init container runs to completion: there is nothing to probe or hook.
  for (const k of ["lifecycle", "livenessProbe", "readinessProbe", "startupProbe"] as const) {
    if (c[k]) return `${f}.${k}: may not be set for init containers without restartPolicy Always`;
  }
  return undefined;
}
