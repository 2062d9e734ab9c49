// emptyDir: a directory on the node's disk, or with medium "Memory" a tmpfs
// of sizeLimit. An existing tmpfs is adopted as it is (restart safety).
import type { EmptyDirVolumeSource } from "@plasmacloud/proto/k8shost";
import { mkdir } from "node:fs/promises";
import { mountAt, readMountInfo } from "@plasmacloud/common/mountinfo";
import { parseQuantity } from "../resources/quantity";
import { mountTmpfs } from "./mount";

export function emptyDirUnsupported(s: EmptyDirVolumeSource): string | undefined {
  if (s.medium !== "" && s.medium !== "Memory") return `emptyDir.medium: '${s.medium}' is not one of "", Memory`;
  if (s.sizeLimit && parseQuantity(s.sizeLimit) === undefined) return `emptyDir.sizeLimit: '${s.sizeLimit}' is not a valid quantity`;
  return undefined;
}

export async function setUpEmptyDir(dir: string, s: EmptyDirVolumeSource): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o777 });
  if (s.medium !== "Memory") return;
  if (mountAt(readMountInfo(), dir)?.fsType === "tmpfs") return;
  const size = s.sizeLimit ? Math.ceil(parseQuantity(s.sizeLimit) ?? 0) : undefined;
  await mountTmpfs(dir, size, 0o777);
}
