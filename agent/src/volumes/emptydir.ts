// emptyDir: a directory on the node's disk, or with medium "Memory" a tmpfs
// of sizeLimit. An existing tmpfs is adopted as it is (restart safety).
import type { EmptyDirVolumeSource } from "@plasmacloud/proto/k8shost";
import { access, chmod, mkdir, writeFile } from "node:fs/promises";
import { mountAt, readMountInfo } from "@plasmacloud/common/mountinfo";
import { parseQuantity } from "../resources/quantity";
import { mountTmpfs } from "./mount";
import { ownTree } from "./ownership";

export function emptyDirUnsupported(s: EmptyDirVolumeSource): string | undefined {
  if (s.medium !== "" && s.medium !== "Memory") return `emptyDir.medium: '${s.medium}' is not one of "", Memory`;
  if (s.sizeLimit && parseQuantity(s.sizeLimit) === undefined) return `emptyDir.sizeLimit: '${s.sizeLimit}' is not a valid quantity`;
  return undefined;
}

/**
 * Sets the volume up once (a "<name>.ready" marker beside it, as the kubelet's
 * ready file): world-writable as the kubelet makes it, whatever the agent's
 * umask, and with fsGroup (the pod's securityContext.fsGroup) group-owned by
 * it, setgid, group-writable. Later syncs leave what the pod did to it alone.
 */
export async function setUpEmptyDir(dir: string, s: EmptyDirVolumeSource, fsGroup?: number): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o777 });
  if (s.medium === "Memory" && mountAt(readMountInfo(), dir)?.fsType !== "tmpfs") {
    const size = s.sizeLimit ? Math.ceil(parseQuantity(s.sizeLimit) ?? 0) : undefined;
    await mountTmpfs(dir, size, 0o777);
  }
  const ready = `${dir}.ready`; // volume names are DNS labels: no volume is called "x.ready"
  if (await access(ready).then(() => true, () => false)) return;
  await chmod(dir, 0o777);
  if (fsGroup !== undefined) await ownTree(dir, fsGroup, false);
  await writeFile(ready, "");
}
