// Runs a CNI plugin the way libcni does: CNI_* environment, the network
// config on stdin, a result or a spec error object on stdout. Argument array,
// no shell (the shared runner); a plugin that hangs is killed at the deadline.
import { dirname } from "node:path";
import { CodedError, type ErrorCode } from "@plasmacloud/common/errors";
import { ExecError, run } from "@plasmacloud/common/exec";

export interface CniInvocation {
  command: "ADD" | "DEL" | "CHECK" | "STATUS" | "GC";
  containerId?: string;
  netns?: string;
  ifname?: string;
  args?: Record<string, string>;
  /** The network config, written to the plugin's stdin as JSON. */
  config: object;
}

/** CNI error codes the agent reacts to (spec: 1-7, 11, 50; plugin-specific 100+). */
function codeFor(cni: number): ErrorCode {
  if (cni === 11 || cni === 50) return "Unavailable";
  if (cni === 3) return "NotFound";
  if (cni === 4 || cni === 6 || cni === 7 || cni === 1 || cni === 2) return "InvalidArgument";
  if (cni === 101) return "InvalidArgument"; // unknown subnet / another tenant's
  return "Internal";
}

export class CniError extends CodedError {
  constructor(readonly cniCode: number, message: string, context: Record<string, string | number>) {
    super(codeFor(cniCode), message, { ...context, cniCode });
  }
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === "object" ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export async function invokeCni(plugin: string, inv: CniInvocation, timeoutMs: number): Promise<Record<string, unknown> | undefined> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
    CNI_COMMAND: inv.command,
    CNI_PATH: dirname(plugin),
    CNI_IFNAME: inv.ifname ?? "eth0",
    CNI_CONTAINERID: inv.containerId ?? "",
    CNI_NETNS: inv.netns ?? "",
  };
  if (inv.args && Object.keys(inv.args).length) {
    env.CNI_ARGS = ["IgnoreUnknown=1", ...Object.entries(inv.args).map(([k, v]) => `${k}=${v}`)].join(";");
  }
  const ctx = { plugin, command: inv.command, containerId: inv.containerId ?? "" };
  try {
    const { stdout } = await run(plugin, [], { env, input: JSON.stringify(inv.config), timeoutMs });
    return parseJson(stdout.trim());
  } catch (err) {
    if (!(err instanceof ExecError)) throw err;
    // A failing plugin prints the spec's error object on stdout.
    const parsed = parseJson(err.stdout.trim());
    if (parsed && typeof parsed.code === "number") {
      const msg = [parsed.msg, parsed.details].filter(Boolean).join(": ");
      throw new CniError(parsed.code, `CNI ${inv.command} failed (code ${parsed.code}): ${msg}`, ctx);
    }
    const why =
      err.reason === "not-found" ? "plugin not found" : err.reason === "timeout" ? `timed out after ${timeoutMs} ms` : err.stderr.trim().split("\n").pop() || err.message;
    throw new CniError(err.reason === "timeout" ? 11 : 999, `CNI ${inv.command} failed: ${why}`, ctx);
  }
}
