// The one way the node programs run a command: an argument array (never a
// shell, so no value from a pod spec or a network config becomes a command),
// a deadline, and an error that keeps the exit code and output so callers
// decide on codes, not on message text.
import { spawn } from "node:child_process";
import { ExecError, type Context } from "./errors";
import { tool } from "./tool";

// The error class lives in errors.ts so a program can recognise it without
// loading node:child_process (novanet's VERSION runs no command).
export { ExecError, tool };

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
  /** The child is killed once stdout or stderr holds more than this; default 16 MiB. */
  maxOutputBytes?: number;
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
    const cap = opts.maxOutputBytes ?? 16 << 20;
    let size = 0;
    let overflow = false;
    const collect = (into: Buffer[]) => (b: Buffer): void => {
      size += b.length;
      if (size <= cap) return void into.push(b);
      overflow = true;
      child.kill("SIGKILL"); // a runaway command must not take the caller's memory
    };
    child.stdout?.on("data", collect(out));
    child.stderr?.on("data", collect(err));
    child.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new ExecError(command, args, null, "", e.message, e.code === "ENOENT" ? "not-found" : "spawn", opts.context));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0 && !timedOut) return resolve({ stdout: text(out), stderr: text(err) });
      reject(new ExecError(command, args, code, text(out), text(err), timedOut ? "timeout" : overflow ? "output-limit" : "exit", opts.context));
    });
    child.stdin?.on("error", () => undefined); // a child that exits before reading
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
