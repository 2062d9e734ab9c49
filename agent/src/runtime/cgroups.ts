// runc creates a pod's cgroup parent on every hierarchy but removes only the
// container's own cgroup; the pod-level directory is ours to remove once the
// sandbox is gone (the kubelet's pod cgroup manager does the same).
import { readdir, rmdir } from "node:fs/promises";
import { join } from "node:path";

const ROOT = "/sys/fs/cgroup";

export async function removePodCgroup(parent: string): Promise<void> {
  if (!parent || !/\/pod[0-9a-zA-Z-]+$/.test(parent)) return; // only ever a pod-level dir
  let hierarchies: string[];
  try {
    hierarchies = await readdir(ROOT);
  } catch {
    return;
  }
  const dirs = [join(ROOT, parent), ...hierarchies.map((h) => join(ROOT, h, parent))];
  await Promise.all(dirs.map((d) => rmdir(d).catch(() => undefined)));
}
