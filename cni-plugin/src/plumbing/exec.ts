// Runs ip/ovs-vsctl/nsenter with argument arrays (never a shell). A failed
// command becomes CniError 105 carrying the command line and its stderr.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { CniCode, CniError } from "../errors.js";

export class CommandError extends CniError {
  constructor(readonly cmd: string, readonly args: readonly string[], readonly exitCode: number | null, readonly stderr: string) {
    super(CniCode.PlumbingFailed, `${cmd} failed`, `${cmd} ${args.join(" ")}: exit ${exitCode}: ${stderr.trim()}`);
  }
}

const resolved = new Map<string, string>();
/** Absolute path of a system tool: runtimes may exec us with a thin PATH. */
export function tool(name: string): string {
  let p = resolved.get(name);
  if (!p) {
    p = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map((d) => `${d}/${name}`).find((c) => existsSync(c)) ?? name;
    resolved.set(name, p);
  }
  return p;
}

export function run(cmd: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool(cmd), args, { stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => reject(new CommandError(cmd, args, null, e.message)));
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString("utf8"));
      else reject(new CommandError(cmd, args, code, Buffer.concat(err).toString("utf8")));
    });
    child.stdin?.on("error", () => undefined); // a child that exits early
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** `ip` inside a netns: `ip -n NAME` for named netns (one exec), else nsenter. */
function ipIn(netns: string | undefined, args: readonly string[], input?: string): Promise<string> {
  if (!netns) return run("ip", args, input);
  const named = /^\/(?:var\/)?run\/netns\/([^/]+)$/.exec(netns);
  if (named) return run("ip", ["-n", named[1] as string, ...args], input);
  // `ip -n` only takes names under /run/netns; nsenter takes any netns path.
  return run("nsenter", [`--net=${netns}`, tool("ip"), ...args], input);
}

/** Several `ip` commands in one process (`ip -batch -`): one exec, not five. */
export function ipBatch(lines: readonly string[], netns?: string): Promise<string> {
  return ipIn(netns, ["-batch", "-"], `${lines.join("\n")}\n`);
}

export function ipJson<T>(args: readonly string[], netns?: string): Promise<T> {
  return ipIn(netns, ["-j", ...args]).then((s) => (s.trim() ? (JSON.parse(s) as T) : ([] as unknown as T)));
}
