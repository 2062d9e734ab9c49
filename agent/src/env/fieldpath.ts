// The downward API's pod fields, shared by env (fieldRef) and the downward API
// volume: which paths each may name (the API server's validation sets) and
// their values as the kubelet computes them (podFieldSelectorRuntimeValue,
// fieldpath.ExtractFieldPathAsString).
import type { ObjectFieldSelector, Pod } from "@plasmacloud/proto/k8shost";

/** What only the node knows about the pod at the moment the value is taken. */
export interface PodRuntimeFacts {
  podIPs: string[];
  hostIP: string;
}

const COMMON = ["metadata.name", "metadata.namespace", "metadata.uid"];
/** validEnvDownwardAPIFieldPathExpressions */
export const ENV_FIELD_PATHS = [...COMMON, "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"];
/** validVolumeDownwardAPIFieldPathExpressions */
export const VOLUME_FIELD_PATHS = [...COMMON, "metadata.labels", "metadata.annotations"];
const SUBSCRIPTABLE = ["metadata.labels", "metadata.annotations"];

/** fieldpath.SplitMaybeSubscriptedPath: "metadata.labels['k']" -> ["metadata.labels", "k"]. */
export function splitSubscript(path: string): { path: string; key: string } | undefined {
  if (!path.endsWith("']")) return undefined;
  const s = path.slice(0, -2);
  const at = s.indexOf("['");
  if (at <= 0) return undefined;
  return { path: s.slice(0, at), key: s.slice(at + 2) };
}

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** validation.IsQualifiedName: an optional DNS subdomain prefix and "/", then a name of at most 63 characters. */
export function isQualifiedName(v: string): boolean {
  const parts = v.split("/");
  if (parts.length > 2) return false;
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  if (parts.length === 2 && (!parts[0] || parts[0].length > 253 || !DNS1123_SUBDOMAIN.test(parts[0]))) return false;
  return name.length > 0 && name.length <= 63 && NAME.test(name);
}

/** Why the selector cannot be used where `allowed` applies, or undefined. */
export function fieldRefProblem(sel: ObjectFieldSelector, allowed: readonly string[]): string | undefined {
  if (sel.apiVersion && sel.apiVersion !== "v1") return `apiVersion: '${sel.apiVersion}' is not supported (only v1)`;
  if (!sel.fieldPath) return "fieldPath: must not be empty";
  const sub = splitSubscript(sel.fieldPath);
  if (sub) {
    if (!SUBSCRIPTABLE.includes(sub.path)) return `fieldPath: '${sel.fieldPath}' does not support a subscript`;
    const key = sub.path === "metadata.annotations" ? sub.key.toLowerCase() : sub.key;
    if (!isQualifiedName(key)) return `fieldPath: invalid key subscript in ${sel.fieldPath}: must be a qualified name`;
    return undefined;
  }
  if (!allowed.includes(sel.fieldPath)) return `fieldPath: '${sel.fieldPath}' is not supported; supported values: ${allowed.join(", ")}, metadata.labels['<KEY>'], metadata.annotations['<KEY>']`;
  return undefined;
}

/** Go's strconv.Quote (what fieldpath.FormatMap's %q prints). */
export function goQuote(s: string): string {
  const esc: Record<string, string> = { "\x07": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v", '"': '\\"', "\\": "\\\\" };
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (esc[ch]) out += esc[ch];
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch)) out += ch;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += `\\U${cp.toString(16).padStart(8, "0")}`;
  }
  return `${out}"`;
}

/** fieldpath.FormatMap: `key="value"` lines in key order. */
export function formatMap(m: Record<string, string>): string {
  return Object.keys(m)
    .sort()
    .map((k) => `${k}=${goQuote(m[k]!)}`)
    .join("\n");
}

/** The value of a (validated) field path of the pod. */
export function podFieldValue(pod: Pod, fieldPath: string, facts: PodRuntimeFacts): string {
  const m = pod.metadata!;
  const sub = splitSubscript(fieldPath);
  if (sub) {
    const map = sub.path === "metadata.labels" ? m.labels : m.annotations;
    return Object.hasOwn(map, sub.key) ? map[sub.key]! : "";
  }
  switch (fieldPath) {
    case "metadata.name":
      return m.name;
    case "metadata.namespace":
      return m.namespace || "default";
    case "metadata.uid":
      return m.uid;
    case "metadata.labels":
      return formatMap(m.labels);
    case "metadata.annotations":
      return formatMap(m.annotations);
    case "spec.nodeName":
      return pod.spec?.nodeName ?? "";
    case "spec.serviceAccountName":
      return ""; // the contract has no service accounts
    case "status.podIP":
      return facts.podIPs[0] ?? "";
    case "status.podIPs":
      return facts.podIPs.join(",");
    case "status.hostIP":
    case "status.hostIPs":
      return facts.hostIP; // one address: the node's InternalIP
  }
  throw new Error(`unsupported fieldPath: ${fieldPath}`);
}
