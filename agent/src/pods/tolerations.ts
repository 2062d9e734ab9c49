// Taints and tolerations, with core/v1's matching (Toleration.ToleratesTaint)
// and the kubelet's admission rule (lifecycle/predicate.go generalFilter): a
// node refuses a pod that does not tolerate one of its NoExecute taints.
// NoSchedule and PreferNoSchedule are the scheduler's business, not the node's.
import type { Pod, Taint, Toleration } from "@plasmacloud/proto/k8shost";

export const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;
export type TaintEffect = (typeof TAINT_EFFECTS)[number];

/** What matching needs of a taint (the proto's, or the agent's node.taints). */
export type TaintLike = Pick<Taint, "key" | "value" | "effect">;
export type TolerationLike = Pick<Toleration, "key" | "operator" | "value" | "effect">;

/**
 * core/v1's rules: an empty effect matches every effect; an empty key (with
 * Exists) every key; Exists matches every value, Equal (or no operator) the
 * same value. Lt/Gt are behind an alpha gate upstream: never a match here.
 */
export function toleratesTaint(t: TolerationLike, taint: TaintLike): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (t.operator === "" || t.operator === "Equal") return t.value === taint.value;
  return t.operator === "Exists";
}

/** The first taint that `filter` selects and no toleration tolerates (FindMatchingUntoleratedTaint). */
export function untoleratedTaint<T extends TaintLike>(taints: readonly T[], tolerations: readonly TolerationLike[], filter: (t: T) => boolean = () => true): T | undefined {
  return taints.find((taint) => filter(taint) && !tolerations.some((t) => toleratesTaint(t, taint)));
}

/** The kubelet's reason and message for a pod it does not admit (tainttoleration.Name, ErrReasonNotMatch). */
export const TAINT_REJECT_REASON = "TaintToleration";
export const TAINT_REJECT_DETAIL = `Predicate ${TAINT_REJECT_REASON} failed: node(s) had taints that the pod didn't tolerate`;
/** kubelet rejectPod: the status message. */
export const TAINT_REJECT_MESSAGE = `Pod was rejected: ${TAINT_REJECT_DETAIL}`;

/** Why the node refuses the pod, or undefined: its NoExecute taints the pod does not tolerate. */
export function taintRejection(pod: Pod, taints: readonly TaintLike[]): { taint: TaintLike } | undefined {
  const taint = untoleratedTaint(taints, pod.spec?.tolerations ?? [], (t) => t.effect === "NoExecute");
  return taint ? { taint } : undefined;
}

/** The API server's toleration validation (ValidateTolerations): the first problem, named by field path. */
export function tolerationsProblem(tolerations: readonly Toleration[], field = "spec.tolerations"): string | undefined {
  for (const [i, t] of tolerations.entries()) {
    const f = `${field}[${i}]`;
    if (t.key && !isQualifiedName(t.key)) return `${f}.key: '${t.key}' is not a qualified name`;
    if (!t.key && t.operator !== "Exists") return `${f}.operator: '${t.operator}' must be Exists when key is empty (matching every key)`;
    if (t.operator === "Exists" && t.value) return `${f}.value: must be empty when operator is Exists`;
    if (t.operator !== "" && t.operator !== "Equal" && t.operator !== "Exists") return `${f}.operator: '${t.operator}' is not one of Equal, Exists`;
    if (t.operator !== "Exists" && t.value && !isLabelValue(t.value)) return `${f}.value: '${t.value}' is not a valid label value`;
    if (t.effect && !(TAINT_EFFECTS as readonly string[]).includes(t.effect)) return `${f}.effect: '${t.effect}' is not one of ${TAINT_EFFECTS.join(", ")}`;
    if (t.tolerationSeconds !== undefined && t.effect !== "NoExecute") return `${f}.tolerationSeconds: may only be set with effect NoExecute`;
  }
  return undefined;
}

/** The API server's taint validation (validateNodeTaints): key, value, effect, and one taint per key and effect. */
export function taintsProblem(taints: readonly TaintLike[], field: string): string | undefined {
  const seen = new Set<string>();
  for (const [i, t] of taints.entries()) {
    const f = `${field}[${i}]`;
    if (!isQualifiedName(t.key)) return `${f}.key: '${t.key}' is not a qualified name (e.g. example.com/dedicated)`;
    if (t.value && !isLabelValue(t.value)) return `${f}.value: '${t.value}' is not a valid label value`;
    if (!(TAINT_EFFECTS as readonly string[]).includes(t.effect)) return `${f}.effect: '${t.effect}' is not one of ${TAINT_EFFECTS.join(", ")}`;
    const id = `${t.key}:${t.effect}`;
    if (seen.has(id)) return `${f}: a taint with key '${t.key}' and effect ${t.effect} is already listed`;
    seen.add(id);
  }
  return undefined;
}

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A label key's syntax: [prefix/]name, the prefix a DNS subdomain, the name 63 characters at most. */
export function isQualifiedName(s: string): boolean {
  const parts = s.split("/");
  if (parts.length > 2) return false;
  const name = parts.at(-1)!;
  if (name.length > 63 || !NAME.test(name)) return false;
  if (parts.length === 2) return parts[0]!.length <= 253 && DNS_SUBDOMAIN.test(parts[0]!);
  return true;
}

export function isLabelValue(s: string): boolean {
  return s === "" || (s.length <= 63 && NAME.test(s));
}
