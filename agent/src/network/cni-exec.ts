// Runs a CNI plugin the way libcni does: CNI_* environment, the network
// config on stdin, a result or a spec error object on stdout. Argument array,
// no shell; a plugin that hangs is killed at the deadline.
import { execFile } from "node:child_process";
import { dirname } from "node:path";
import { AgentError, type ErrorCode } from "../errors";

export interface CniInvocation {
  command: "ADD" | "DEL" | "CHECK" | "STATUS" | "GC";
  containerId?: string;
  netns?: string;
  ifname?: string;
  args?: Record<string, string>;
  config: Record<string, unknown>;
}

/** CNI error codes the agent reacts to (spec: 1-7, 11, 50; plugin-specific 100+). */
function codeFor(cni: number): ErrorCode {
  if (cni === 11 || cni === 50) return "Unavailable";
  if (cni === 3) return "NotFound";
  if (cni === 4 || cni === 6 || cni === 7 || cni === 1 || cni === 2) return "InvalidArgument";
  if (cni === 101) return "InvalidArgument"; // unknown subnet / another tenant's
  return "Internal";
}

export class CniError extends AgentError {
  constructor(readonly cniCode: number, message: string, context: Record<string, string | number>) {
    super(codeFor(cniCode), message, { ...context, cniCode });
  }
}

export function invokeCni(plugin: string, inv: CniInvocation, timeoutMs: number): Promise<Record<string, unknown> | undefined> {
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
  return new Promise((resolve, reject) => {
    const child = execFile(plugin, [], { env, timeout: timeoutMs, maxBuffer: 1 << 20, killSignal: "SIGKILL" }, (err, stdout, stderr) => {
      const out = stdout.trim();
      let parsed: Record<string, unknown> | undefined;
      try {
        parsed = out ? (JSON.parse(out) as Record<string, unknown>) : undefined;
      } catch {
        parsed = undefined;
      }
      const ctx = { plugin, command: inv.command, containerId: inv.containerId ?? "" };
      if (!err) return resolve(parsed);
      if (parsed && typeof parsed.code === "number") {
        const msg = [parsed.msg, parsed.details].filter(Boolean).join(": ");
        return reject(new CniError(parsed.code, `CNI ${inv.command} failed (code ${parsed.code}): ${msg}`, ctx));
      }
      const why = (err as NodeJS.ErrnoException).code === "ENOENT" ? "plugin not found" : err.killed ? `timed out after ${timeoutMs} ms` : stderr.trim().split("\n").pop() || err.message;
      reject(new CniError(err.killed ? 11 : 999, `CNI ${inv.command} failed: ${why}`, ctx));
    });
    child.stdin?.end(JSON.stringify(inv.config));
  });
}
