// The one way the node programs run a command: an argument array (never a
// shell, so no value from a pod spec or a network config becomes a command),
// a deadline, and an error that keeps the exit code and output so callers
// decide on codes, not on message text.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { CodedError, type Context } from "./errors";

export interface ExecResult {
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to stdin (stdin is closed otherwise). */
  input?: string;
  /** Killed with SIGKILL after this long; default 120 s. */
  timeoutMs?: number;
  /** The whole environment; default: this process's, with LC_ALL=C so tools answer in one language. */
  env?: NodeJS.ProcessEnv;
  /** Added to the error's context. */
  context?: Context;
}

export class ExecError extends CodedError {
  constructor(
    readonly command: string,
    readonly args: readonly string[],
    /** null when the command did not run to an exit (not found, killed). */
    readonly exitCode: number | null,
    readonly stdout: string,
    readonly stderr: string,
    readonly reason: "exit" | "not-found" | "timeout" | "spawn",
    context: Context = {},
  ) {
    const why = reason === "exit" ? `exit ${exitCode}` : reason === "timeout" ? "timed out" : reason === "not-found" ? "not found" : "could not start";
    const tail = stderr.trim().slice(0, 500);
    super(reason === "timeout" ? "DeadlineExceeded" : reason === "not-found" ? "NotFound" : "Internal",
      `${command} failed (${why})${tail ? `: ${tail}` : ""}`, { command, args: args.join(" "), exitCode: exitCode ?? undefined, ...context });
    this.name = "ExecError";
  }
}

const resolved = new Map<string, string>();
/** Absolute path of a system tool: runtimes may exec us with a thin PATH. */
export function tool(name: string): string {
  if (name.includes("/")) return name;
  let p = resolved.get(name);
  if (!p) {
    p = ["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin"].map((d) => `${d}/${name}`).find((c) => existsSync(c)) ?? name;
    resolved.set(name, p);
  }
  return p;
}

export type Runner = (command: string, args: readonly string[], opts?: RunOptions) => Promise<ExecResult>;

export const run: Runner = (command, args, opts = {}) =>
  new Promise((resolve, reject) => {
    const child = spawn(tool(command), args, {
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      env: opts.env ?? { ...process.env, LC_ALL: "C" },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs ?? 120_000);
    const text = (b: Buffer[]): string => Buffer.concat(b).toString("utf8");
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new ExecError(command, args, null, "", e.message, e.code === "ENOENT" ? "not-found" : "spawn", opts.context));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0 && !timedOut) return resolve({ stdout: text(out), stderr: text(err) });
      reject(new ExecError(command, args, code, text(out), text(err), timedOut ? "timeout" : "exit", opts.context));
    });
    child.stdin?.on("error", () => undefined); // a child that exits before reading
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
