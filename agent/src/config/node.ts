// The `node` settings: the address the node reports (the kubelet's --node-ip)
// and the taints it registers with (--register-with-taints). Their syntax is
// checked here, with the rest of the config (so `config check` catches it);
// whether node.ip is this host's is checked at start (node/address.ts).
import { isIP } from "node:net";
import { CodedError } from "@plasmacloud/common/errors";
import { TAINT_EFFECTS, taintsProblem, type TaintEffect } from "../pods/tolerations";

export interface NodeTaintSetting {
  key: string;
  /** Optional in the file; "" when absent. */
  value: string;
  effect: TaintEffect;
}

export interface NodeSettings {
  /** "" (or 0.0.0.0 / ::): the default-route address. */
  ip: string;
  taints: NodeTaintSetting[];
}

export const defaultNodeSettings = (): NodeSettings => ({ ip: "", taints: [] });

type Invalid = (field: string, msg: string) => CodedError;

/** node.taints from the file: a list of {key, value?, effect}, nothing else. */
export function parseTaints(v: unknown, field: string, invalid: Invalid): NodeTaintSetting[] {
  if (!Array.isArray(v)) throw invalid(field, "must be a list of {key, value, effect}");
  return v.map((t: unknown, i) => {
    const f = `${field}[${i}]`;
    if (t === null || typeof t !== "object" || Array.isArray(t)) throw invalid(f, "must be a mapping with key, value (optional) and effect");
    const out: Record<string, string> = { value: "" };
    for (const [k, x] of Object.entries(t as Record<string, unknown>)) {
      if (k !== "key" && k !== "value" && k !== "effect") throw invalid(`${f}.${k}`, "unknown field (a taint has key, value and effect)");
      if (typeof x !== "string") throw invalid(`${f}.${k}`, `must be a string, got ${Array.isArray(x) ? "list" : typeof x}`);
      out[k] = x;
    }
    if (out.key === undefined) throw invalid(`${f}.key`, "must be set");
    if (out.effect === undefined) throw invalid(`${f}.effect`, `must be set (one of ${TAINT_EFFECTS.join(", ")})`);
    return { key: out.key, value: out.value!, effect: out.effect as TaintEffect };
  });
}

export function validateNodeSettings(n: NodeSettings, invalid: Invalid): void {
  if (n.ip && isIP(n.ip) === 0) throw invalid("node.ip", `'${n.ip}' is not an IPv4 or IPv6 address`);
  const kind = n.ip ? unusableKind(n.ip) : undefined;
  if (kind) throw invalid("node.ip", `'${n.ip}' is a ${kind} address (0.0.0.0 or :: mean the default-route address)`);
  const problem = taintsProblem(n.taints, "node.taints");
  if (problem) {
    const colon = problem.indexOf(": ");
    throw invalid(problem.slice(0, colon), problem.slice(colon + 2));
  }
}

/** The kubelet's validateNodeIP: a node cannot be reached at these. */
function unusableKind(ip: string): string | undefined {
  if (isIP(ip) === 4) {
    const [a, b] = ip.split(".").map(Number) as [number, number];
    if (a === 127) return "loopback";
    if (a >= 224 && a <= 239) return "multicast";
    if (a === 169 && b === 254) return "link-local";
    return undefined;
  }
  const c = new URL(`http://[${ip}]`).hostname.slice(1, -1);
  if (c === "::1") return "loopback";
  if (c.startsWith("ff")) return "multicast";
  if (/^fe[89ab]/.test(c)) return "link-local";
  return undefined;
}
