// Runs the agent's CLI from the sources as a user would (a child process), with
// a fixed set of connection flags: to completion, or kept running (attach,
// port-forward) until the test stops it as a user would, with Ctrl-C.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

const repo = new URL("../../../", import.meta.url).pathname;
const MAIN = join(repo, "agent/src/main.ts");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Node's arguments for `k8shost-agent ARGS...` from the sources. */
export const cliArgv = (args: string[]): string[] => ["--import", "tsx", MAIN, ...args];

/** Runs to the end; `input` is written to its stdin, which then closes. */
export function runCli(argv: string[], o: { input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const timeoutMs = o.timeoutMs ?? 60_000;
  return new Promise((resolve) => {
    const p = spawn(process.execPath, argv, { cwd: repo, stdio: [o.input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    if (o.input !== undefined) p.stdin!.end(o.input);
    const out = { stdout: "", stderr: "" };
    p.stdout!.on("data", (d: Buffer) => (out.stdout += d.toString()));
    p.stderr!.on("data", (d: Buffer) => (out.stderr += d.toString()));
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, ...out });
    });
  });
}

export class RunningCli {
  stdout = "";
  stderr = "";
  private readonly exited: Promise<number | null>;

  constructor(private readonly p: ChildProcess) {
    p.stdout!.on("data", (d: Buffer) => (this.stdout += d.toString()));
    p.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((r) => p.on("close", (code, signal) => r(code ?? (signal ? 128 : null))));
  }

  write(s: string): void {
    this.p.stdin!.write(s);
  }

  /** Ctrl-C, then the exit code (SIGKILL if it does not exit within 10 s). */
  async stop(): Promise<number | null> {
    if (this.p.exitCode === null && this.p.signalCode === null) this.p.kill("SIGINT");
    const timer = setTimeout(() => this.p.kill("SIGKILL"), 10_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The CLI with connection flags given once. */
export class Cli {
  readonly repo = repo;
  constructor(private readonly conn: string[]) {}

  /** argv for `COMMAND <conn flags> REST...` (REST may hold `--` and the command's own arguments). */
  args(command: string, ...rest: string[]): string[] {
    return cliArgv([command, ...this.conn, ...rest]);
  }

  spawn(command: string, ...rest: string[]): RunningCli {
    return new RunningCli(spawn(process.execPath, this.args(command, ...rest), { cwd: repo, stdio: ["pipe", "pipe", "pipe"] }));
  }
}
