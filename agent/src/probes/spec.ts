// What a probe asks for, with the kubelet's defaults filled in, and the port
// rules shared by probes and lifecycle hooks (IntOrString: a number, or the
// name of one of the container's ports).
import { CodedError } from "@plasmacloud/common/errors";
import type { Container, Probe } from "@plasmacloud/proto/k8shost";

export type ProbeKind = "liveness" | "readiness" | "startup";
export const PROBE_KINDS: readonly ProbeKind[] = ["startup", "liveness", "readiness"];

/** A worker's published result; "unknown" is the startup probe's value before its first verdict. */
export type ProbeResult = "success" | "failure" | "unknown";

/**
 * One run of a handler. A warning (an HTTP redirect to another host) counts as
 * a success, as in the kubelet. A handler that cannot run at all throws a
 * ProbeError instead: the kubelet logs it and counts nothing.
 */
export interface ProbeOutcome {
  result: "success" | "failure" | "warning";
  output: string;
}

export class ProbeError extends CodedError {}

export interface ProbeTiming {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

// The kubelet's defaults (SetDefaults_Probe): zero in the contract means unset.
export const DEFAULT_TIMEOUT_SECONDS = 1;
export const DEFAULT_PERIOD_SECONDS = 10;
export const DEFAULT_SUCCESS_THRESHOLD = 1;
export const DEFAULT_FAILURE_THRESHOLD = 3;

export function timing(p: Probe): ProbeTiming {
  return {
    initialDelayMs: Math.max(0, p.initialDelaySeconds) * 1000,
    periodMs: (p.periodSeconds > 0 ? p.periodSeconds : DEFAULT_PERIOD_SECONDS) * 1000,
    timeoutMs: (p.timeoutSeconds > 0 ? p.timeoutSeconds : DEFAULT_TIMEOUT_SECONDS) * 1000,
    successThreshold: p.successThreshold > 0 ? p.successThreshold : DEFAULT_SUCCESS_THRESHOLD,
    failureThreshold: p.failureThreshold > 0 ? p.failureThreshold : DEFAULT_FAILURE_THRESHOLD,
  };
}

export function probeOf(c: Container, kind: ProbeKind): Probe | undefined {
  return kind === "liveness" ? c.livenessProbe : kind === "readiness" ? c.readinessProbe : c.startupProbe;
}

/** The kubelet names probe kinds capitalized in events ("Liveness probe failed: ..."). */
export const kindLabel = (kind: ProbeKind): string => kind[0]!.toUpperCase() + kind.slice(1);

/** IANA_SVC_NAME, the API server's rule for a named port. */
const PORT_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Why the port is malformed (the API server's checks), or undefined. Existence is checked by resolvePort. */
export function portProblem(port: string): string | undefined {
  if (/^\d+$/.test(port)) {
    const n = Number(port);
    return n >= 1 && n <= 65535 ? undefined : `${port} must be between 1 and 65535, inclusive`;
  }
  if (port === "") return "must be set (a number or the name of a container port)";
  if (port.length > 15 || !PORT_NAME.test(port) || port.includes("--")) {
    return `'${port}' is neither a port number nor a port name (at most 15 lowercase letters, digits and '-', with at least one letter)`;
  }
  return undefined;
}

/** The kubelet's ResolveContainerPort: a number is itself, a name is looked up in the container's ports. */
export function resolvePort(port: string, c: Container): number {
  if (/^\d+$/.test(port)) return Number(port);
  const found = c.ports.find((p) => p.name === port);
  if (!found) throw new ProbeError("InvalidArgument", `couldn't find port '${port}' in container ${c.name}`);
  return found.containerPort;
}
