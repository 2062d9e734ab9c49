// mount/umount through execFile with argument arrays: never a shell, so no
// path or option from a pod spec can become a command.
import { execFile } from "node:child_process";
import { AgentError } from "../errors";

export function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err) reject(new AgentError("Internal", `${cmd} failed: ${(stderr || err.message).trim()}`, { cmd, args: args.join(" ") }, { cause: err }));
      else resolve(stdout);
    });
  });
}

export async function mountTmpfs(target: string, sizeBytes: number | undefined, mode: number): Promise<void> {
  const opts = [`mode=${mode.toString(8)}`, "nosuid", "nodev"];
  if (sizeBytes !== undefined && sizeBytes > 0) opts.push(`size=${sizeBytes}`);
  await run("mount", ["-t", "tmpfs", "-o", opts.join(","), "tmpfs", target]);
}

export async function unmount(target: string): Promise<void> {
  await run("umount", [target]);
}
