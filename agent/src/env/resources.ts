// resourceFieldRef values as the kubelet computes them: a container's limit
// that is unset (or zero) is the node's allocatable
// (MergeContainerResourceLimits), a request that is unset is the limit the
// spec gave (the API server's defaulting), and the value is divided by the
// divisor and rounded up (convertResource*ToString).
import type { Container, Pod, ResourceFieldSelector } from "@plasmacloud/proto/k8shost";
import { bytes, milliCpu, parseQuantity } from "../resources/quantity";

export const RESOURCE_FIELDS = ["limits.cpu", "limits.memory", "limits.ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage"];
/** The node's allocatable resources by name (cpu, memory, ephemeral-storage), as quantities. */
export type Allocatable = Record<string, string>;

const CPU_DIVISORS = [0.001, 1];
const BYTE_DIVISORS = [1, 1e3, 1e6, 1e9, 1e12, 1e15, 1e18, 2 ** 10, 2 ** 20, 2 ** 30, 2 ** 40, 2 ** 50, 2 ** 60];

/** Why the selector is invalid, or undefined (validateContainerResourceFieldSelector and its divisor rule). */
export function resourceFieldProblem(sel: ResourceFieldSelector): string | undefined {
  if (!RESOURCE_FIELDS.includes(sel.resource)) return `resource: '${sel.resource}' is not supported; supported values: ${RESOURCE_FIELDS.join(", ")}`;
  if (!sel.divisor) return undefined;
  const d = parseQuantity(sel.divisor);
  if (d === undefined) return `divisor: '${sel.divisor}' is not a valid quantity`;
  if (d === 0) return undefined; // the zero quantity counts as unset, as in Kubernetes
  const cpu = sel.resource.endsWith(".cpu");
  const ok = (cpu ? CPU_DIVISORS : BYTE_DIVISORS).some((v) => Math.abs(v - d) <= v * 1e-12);
  if (!ok) return cpu ? "divisor: only divisor's values 1m and 1 are supported with the cpu resource" : `divisor: only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the ${sel.resource.endsWith(".memory") ? "memory" : "local ephemeral storage"} resource`;
  return undefined;
}

/** findContainerInPod: containers first, then init containers. */
function findContainer(pod: Pod, name: string): Container {
  const c = pod.spec?.containers.find((x) => x.name === name) ?? pod.spec?.initContainers.find((x) => x.name === name);
  if (!c) throw new Error(`container ${name} not found`);
  return c;
}

/** The quantity the selector reads, after the kubelet's and API server's defaulting. */
function effective(c: Container, resource: string, allocatable: Allocatable): string | undefined {
  const [kind, name] = resource.split(/\.(.*)/s) as [string, string];
  const limit = c.resources?.limits[name];
  if (kind === "requests") return c.resources?.requests[name] ?? limit;
  return limit && parseQuantity(limit) ? limit : (allocatable[name] ?? limit);
}

/**
 * The value of a (validated) resourceFieldRef as a decimal string. `self` is
 * the container whose env asks (env may omit containerName); a volume names it.
 */
export function resourceFieldValue(sel: ResourceFieldSelector, pod: Pod, self: Container | undefined, allocatable: Allocatable): string {
  const c = sel.containerName ? findContainer(pod, sel.containerName) : self;
  if (!c) throw new Error(`resourceFieldRef ${sel.resource}: containerName must be set`);
  const q = effective(c, sel.resource, allocatable);
  const divisor = sel.divisor && parseQuantity(sel.divisor) ? sel.divisor : "1";
  if (sel.resource.endsWith(".cpu")) return String(Math.ceil(milliCpu(q) / milliCpu(divisor)));
  return String(Math.ceil(bytes(q) / bytes(divisor)));
}
