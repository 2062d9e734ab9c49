// The CNI_* environment of one invocation, validated per verb (spec 1.1.0
// "Parameters"). Bad or missing variables are error 4.
import { CniCode, CniError } from "./errors.js";

export type Verb = "ADD" | "DEL" | "CHECK" | "VERSION" | "STATUS" | "GC";
const VERBS: readonly string[] = ["ADD", "DEL", "CHECK", "VERSION", "STATUS", "GC"];

export interface CniEnv {
  command: Verb;
  containerId: string;
  netns: string;
  ifname: string;
  /** CNI_ARGS as ordered key/value pairs (libcni caches them in this form). */
  args: [string, string][];
  path: string[];
}

const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

function validIfname(n: string): boolean {
  return n.length > 0 && n.length <= 15 && n !== "." && n !== ".." && !/[/:\s]/.test(n);
}

export function parseCniArgs(raw: string): [string, string][] {
  if (!raw) return [];
  return raw.split(";").filter((p) => p.length > 0).map((pair) => {
    const i = pair.indexOf("=");
    if (i <= 0) throw new CniError(CniCode.InvalidEnv, "CNI_ARGS: invalid pair", `expected KEY=VALUE, got ${JSON.stringify(pair)}`);
    return [pair.slice(0, i), pair.slice(i + 1)] as [string, string];
  });
}

export function readEnv(env: NodeJS.ProcessEnv): CniEnv {
  const command = env.CNI_COMMAND ?? "";
  if (!VERBS.includes(command)) {
    throw new CniError(CniCode.InvalidEnv, "CNI_COMMAND: missing or unknown", `got ${JSON.stringify(command)}; expected one of ${VERBS.join(", ")}`);
  }
  const verb = command as Verb;
  const containerId = env.CNI_CONTAINERID ?? "";
  const netns = env.CNI_NETNS ?? "";
  const ifname = env.CNI_IFNAME ?? "";
  const perAttachment = verb === "ADD" || verb === "DEL" || verb === "CHECK";
  if (perAttachment) {
    if (!containerId) throw new CniError(CniCode.InvalidEnv, "CNI_CONTAINERID is required");
    if (!CONTAINER_ID.test(containerId)) {
      throw new CniError(CniCode.InvalidEnv, "CNI_CONTAINERID: invalid", "must start alphanumeric, then alphanumerics, '_', '.', '-'");
    }
    if (!ifname) throw new CniError(CniCode.InvalidEnv, "CNI_IFNAME is required");
    if (!validIfname(ifname)) throw new CniError(CniCode.InvalidEnv, "CNI_IFNAME: invalid interface name", `got ${JSON.stringify(ifname)}`);
    if (verb !== "DEL" && !netns) throw new CniError(CniCode.InvalidEnv, "CNI_NETNS is required");
  }
  return {
    command: verb, containerId, netns, ifname,
    args: parseCniArgs(env.CNI_ARGS ?? ""),
    path: (env.CNI_PATH ?? "").split(":").filter(Boolean),
  };
}
