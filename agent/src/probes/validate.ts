// The API server's checks on probes and lifecycle hooks (validation.go's
// validateProbe, validateHandler, validateLifecycle), plus the one the kubelet
// would only find at run time: a named port the container does not have.
// The first problem, named by its field path.
import type { Container, HTTPGetAction, LifecycleHandler, PodSpec, Probe } from "@plasmacloud/proto/k8shost";
import { portProblem } from "./spec";

const HEADER_NAME = /^[-A-Za-z0-9]+$/;
const DEFAULT_GRACE = 30;

/** `f` is the container's field path (`spec.containers[0]`). */
export function validateProbesAndHooks(spec: PodSpec, c: Container, f: string): string | undefined {
  const probes = [
    ["livenessProbe", c.livenessProbe],
    ["readinessProbe", c.readinessProbe],
    ["startupProbe", c.startupProbe],
  ] as const;
  for (const [field, p] of probes) {
    if (!p) continue;
    const problem = validateProbe(p, c, `${f}.${field}`, field);
    if (problem) return problem;
  }
  const grace = spec.terminationGracePeriodSeconds !== undefined ? Number(spec.terminationGracePeriodSeconds) : DEFAULT_GRACE;
  for (const field of ["postStart", "preStop"] as const) {
    const h = c.lifecycle?.[field];
    if (!h) continue;
    const problem = validateLifecycleHandler(h, c, `${f}.lifecycle.${field}`, grace);
    if (problem) return problem;
  }
  return undefined;
}

function validateProbe(p: Probe, c: Container, f: string, field: "livenessProbe" | "readinessProbe" | "startupProbe"): string | undefined {
  const set = [["exec", p.exec], ["httpGet", p.httpGet], ["tcpSocket", p.tcpSocket], ["grpc", p.grpc]].filter(([, h]) => h !== undefined);
  if (set.length === 0) return `${f}: must specify a handler type (exec, httpGet, tcpSocket or grpc)`;
  if (set.length > 1) return `${f}.${set[1]![0] as string}: may not specify more than 1 handler type`;
  for (const k of ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"] as const) {
    if (p[k] < 0) return `${f}.${k}: ${p[k]} must be greater than or equal to 0`;
  }
  if (field !== "readinessProbe" && p.successThreshold > 1) return `${f}.successThreshold: ${p.successThreshold} must be 1`;
  const g = p.terminationGracePeriodSeconds;
  if (g !== undefined) {
    if (field === "readinessProbe") return `${f}.terminationGracePeriodSeconds: must not be set for readinessProbes`;
    if (g <= 0n) return `${f}.terminationGracePeriodSeconds: ${g} must be greater than 0`;
  }
  if (p.exec && p.exec.command.length === 0) return `${f}.exec.command: must not be empty`;
  if (p.httpGet) return validateHTTPGet(p.httpGet, c, `${f}.httpGet`);
  if (p.tcpSocket) return validatePort(p.tcpSocket.port, c, `${f}.tcpSocket.port`);
  if (p.grpc && (p.grpc.port < 1 || p.grpc.port > 65535)) return `${f}.grpc.port: ${p.grpc.port} must be between 1 and 65535, inclusive`;
  return undefined;
}

function validateLifecycleHandler(h: LifecycleHandler, c: Container, f: string, grace: number): string | undefined {
  if (h.tcpSocket) return `${f}.tcpSocket: not supported in lifecycle hooks (deprecated upstream; use exec, httpGet or sleep)`;
  const set = [["exec", h.exec], ["httpGet", h.httpGet], ["sleep", h.sleep]].filter(([, x]) => x !== undefined);
  if (set.length === 0) return `${f}: must specify a handler type (exec, httpGet or sleep)`;
  if (set.length > 1) return `${f}.${set[1]![0] as string}: may not specify more than 1 handler type`;
  if (h.exec && h.exec.command.length === 0) return `${f}.exec.command: must not be empty`;
  if (h.httpGet) return validateHTTPGet(h.httpGet, c, `${f}.httpGet`);
  if (h.sleep && (h.sleep.seconds < 0n || h.sleep.seconds > BigInt(grace))) {
    return `${f}.sleep.seconds: ${h.sleep.seconds} must be non-negative and less than terminationGracePeriodSeconds (${grace})`;
  }
  return undefined;
}

function validateHTTPGet(a: HTTPGetAction, c: Container, f: string): string | undefined {
  if (a.scheme && a.scheme !== "HTTP" && a.scheme !== "HTTPS") return `${f}.scheme: '${a.scheme}' is not one of HTTP, HTTPS`;
  for (const [i, h] of a.httpHeaders.entries()) {
    if (!HEADER_NAME.test(h.name)) return `${f}.httpHeaders[${i}].name: '${h.name}' is not a valid HTTP header name (letters, digits and '-')`;
  }
  return validatePort(a.port, c, `${f}.port`);
}

function validatePort(port: string, c: Container, f: string): string | undefined {
  const bad = portProblem(port);
  if (bad) return `${f}: ${bad}`;
  if (!/^\d+$/.test(port) && !c.ports.some((p) => p.name === port)) return `${f}: no port named '${port}' in the container's ports`;
  return undefined;
}
