// Running ip / nsenter / ovs-vsctl: @plasmacloud/common/exec's contract
// (argument arrays, never a shell; a deadline; an output cap; ExecError with
// exit code and output). run() is common/exec itself under Node, and
// Bun.spawn under bun (the shipped executable): node:child_process's first
// spawn costs ~6 ms there, on ADD's critical path. start() also keeps the
// child's stdin open, so a process can be started (its exec paid) before
// the caller knows what to tell it.
import { ExecError } from "@plasmacloud/common/errors";
import type { ExecResult, RunOptions } from "@plasmacloud/common/exec";
import { tool } from "@plasmacloud/common/tool";

export { tool };

/** The part of Bun.spawn used here (no bun types in this repo). */
interface BunProcess {
  stdin?: { write(s: string): number; flush(): unknown; end(): unknown };
  stdout: AsyncIterable<Uint8Array>;
  stderr: AsyncIterable<Uint8Array>;
  exited: Promise<number>;
  signalCode: string | null;
  kill(signal?: string): void;
}
interface BunSpawn {
  spawn(cmd: string[], o: { env: Record<string, string | undefined>; stdin: Uint8Array | "ignore" | "pipe"; stdout: "pipe"; stderr: "pipe" }): BunProcess;
}
const bunRuntime = (): BunSpawn | undefined => (globalThis as { Bun?: BunSpawn }).Bun;

export async function run(command: string, args: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
  const bun = bunRuntime();
  if (!bun) return (await import("@plasmacloud/common/exec")).run(command, args, opts);
  const p = spawnChild(command, args, opts, opts.input === undefined ? "ignore" : Buffer.from(opts.input, "utf8"));
  return p.end();
}

/** A command whose stdin stays open: write() to it, end() closes it and resolves as run() does. */
export interface Started {
  write(text: string): void;
  /** Resolves at its first output on stdout; rejects (as end() would) if it exits without any. */
  output(): Promise<void>;
  end(): Promise<ExecResult>;
}

export function start(command: string, args: readonly string[], opts: Omit<RunOptions, "input"> = {}): Started {
  return spawnChild(command, args, opts, "pipe");
}

/** One child process, through Bun.spawn or node:child_process, to common/exec's contract. */
function spawnChild(command: string, args: readonly string[], opts: RunOptions, stdin: Uint8Array | "ignore" | "pipe"): Started {
  const fail = (reason: ExecError["reason"], code: number | null, out = "", err = "") =>
    new ExecError(command, args, code, out, err, reason, opts.context);
  const env = opts.env ?? { ...process.env, LC_ALL: "C" };
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let size = 0;
  let timedOut = false;
  let overflow = false;
  let firstOutput: () => void = () => undefined;
  const output = new Promise<void>((r) => { firstOutput = r; });
  const cap = opts.maxOutputBytes ?? 16 << 20;
  let kill: () => void = () => undefined;
  const take = (into: Buffer[], b: Uint8Array): void => {
    size += b.length;
    if (size > cap) {
      overflow = true;
      kill(); // a runaway command must not take the caller's memory
    } else into.push(Buffer.from(b));
    if (into === out) firstOutput();
  };
  let write: (t: string) => void;
  let close: () => void;
  let exited: Promise<{ code: number | null }>;
  const bun = bunRuntime();
  try {
    if (bun) {
      const p = bun.spawn([tool(command), ...args], { env, stdin, stdout: "pipe", stderr: "pipe" });
      kill = () => p.kill("SIGKILL");
      const drain = async (s: AsyncIterable<Uint8Array>, into: Buffer[]): Promise<void> => { for await (const b of s) take(into, b); };
      // Read from the start: a command that fills its pipe must not stall.
      exited = Promise.all([drain(p.stdout, out), drain(p.stderr, err), p.exited]).then(([, , code]) => ({ code: p.signalCode ? null : code }));
      write = (t) => { p.stdin?.write(t); p.stdin?.flush(); };
      close = () => void p.stdin?.end();
    } else {
      const cp = process.getBuiltinModule("node:child_process") as typeof import("node:child_process");
      const c = cp.spawn(tool(command), args, { stdio: [stdin === "ignore" ? "ignore" : "pipe", "pipe", "pipe"], env });
      kill = () => void c.kill("SIGKILL");
      c.stdout?.on("data", (b: Buffer) => take(out, b));
      c.stderr?.on("data", (b: Buffer) => take(err, b));
      c.stdin?.on("error", () => undefined); // a child that exits before reading
      exited = new Promise((resolve, reject) => {
        c.on("error", (e: NodeJS.ErrnoException) => reject(fail(e.code === "ENOENT" ? "not-found" : "spawn", null, "", e.message)));
        c.on("close", (code) => resolve({ code }));
      });
      if (stdin instanceof Uint8Array) c.stdin?.end(stdin);
      write = (t) => void c.stdin?.write(t);
      close = () => void c.stdin?.end();
    }
  } catch (e) {
    const error = fail((e as NodeJS.ErrnoException).code === "ENOENT" ? "not-found" : "spawn", null, "", (e as Error).message);
    return { write: () => undefined, output: () => Promise.reject(error), end: () => Promise.reject(error) };
  }
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, opts.timeoutMs ?? 120_000);
  const text = (b: Buffer[]): string => Buffer.concat(b).toString("utf8");
  const result = exited.then(({ code }) => {
    clearTimeout(timer);
    if (code === 0 && !timedOut && !overflow) return { stdout: text(out), stderr: text(err) };
    throw fail(timedOut ? "timeout" : overflow ? "output-limit" : "exit", code, text(out), text(err));
  }, (e: unknown) => {
    clearTimeout(timer);
    throw e;
  });
  result.catch(() => undefined); // handed over by end() / output()
  return {
    write: (t) => {
      try {
        write(t);
      } catch {
        // Already exited (ip stops at its first error): end() reports why.
      }
    },
    output: () => Promise.race([output, result.then(() => {
      if (!out.length) throw fail("exit", 0, "", "exited without the expected output");
    })]),
    end: () => {
      try {
        close();
      } catch { /* as above */ }
      return result;
    },
  };
}
