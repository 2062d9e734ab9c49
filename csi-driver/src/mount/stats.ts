// Capacity and inode usage from statfs(2).
import { statfs } from "node:fs/promises";

export interface FsUsage {
  bytes: { total: bigint; available: bigint; used: bigint };
  inodes: { total: bigint; available: bigint; used: bigint };
}

export async function filesystemUsage(path: string): Promise<FsUsage> {
  const s = await statfs(path, { bigint: true });
  return {
    bytes: { total: s.blocks * s.bsize, available: s.bavail * s.bsize, used: (s.blocks - s.bfree) * s.bsize },
    inodes: { total: s.files, available: s.ffree, used: s.files - s.ffree },
  };
}
