// The one way this driver runs external commands: execFile with an argument
// array (never a shell), a timeout, and an error that keeps the command,
// exit code and stderr for the caller.
import { execFile } from "node:child_process";
import { CsiError, type Context } from "./errors";
import { status } from "@grpc/grpc-js";

export interface ExecResult {
  stdout: string;
  stderr: string;
}

export class ExecError extends CsiError {
  constructor(
    readonly command: string,
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    ctx: Context = {},
  ) {
    super(status.INTERNAL, `${command} failed (exit ${exitCode ?? "signal"}): ${stderr.trim().slice(0, 500)}`, { command, ...ctx });
    this.name = "ExecError";
  }
}

export type Runner = (command: string, args: readonly string[], opts?: { timeoutMs?: number }) => Promise<ExecResult>;

export const run: Runner = (command, args, opts = {}) =>
  new Promise((resolve, reject) => {
    execFile(
      command,
      args as string[],
      { timeout: opts.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, LC_ALL: "C" } },
      (err, stdout, stderr) => {
        if (err) {
          const code = typeof err.code === "number" ? err.code : null;
          reject(new ExecError(command, args, code, String(stderr || err.message)));
          return;
        }
        resolve({ stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
