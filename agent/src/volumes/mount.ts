// mount/umount with argument arrays (the shared runner, never a shell), so no
// path or option from a pod spec can become a command.
import { run } from "@plasmacloud/common/exec";

const TIMEOUT_MS = 60_000;

export async function mountTmpfs(target: string, sizeBytes: number | undefined, mode: number): Promise<void> {
  const opts = [`mode=${mode.toString(8)}`, "nosuid", "nodev"];
  if (sizeBytes !== undefined && sizeBytes > 0) opts.push(`size=${sizeBytes}`);
  await run("mount", ["-t", "tmpfs", "-o", opts.join(","), "tmpfs", target], { timeoutMs: TIMEOUT_MS });
}

export async function unmount(target: string): Promise<void> {
  await run("umount", [target], { timeoutMs: TIMEOUT_MS });
}
