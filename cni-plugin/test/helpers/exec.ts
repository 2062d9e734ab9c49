// Process helpers for tests on @plasmacloud/common/exec (argument arrays,
// async so the in-process stand-in keeps serving while the plugin runs).
// exec() reports the exit code instead of throwing: tests assert on it.
import { ExecError, run } from "@plasmacloud/common/exec";

export interface Ran { code: number; stdout: string; stderr: string }

export async function exec(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<Ran> {
  try {
    // stdin is always a pipe, as a container runtime gives the plugin.
    return { code: 0, ...(await run(cmd, args, { env: opts.env, input: opts.input ?? "" })) };
  } catch (e) {
    if (!(e instanceof ExecError) || e.exitCode === null) throw e;
    return { code: e.exitCode, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Runs and insists on success; returns stdout. */
export async function sh(cmd: string, ...args: string[]): Promise<string> {
  const r = await exec(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}
