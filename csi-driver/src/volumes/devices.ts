// Which block device backs a staged or published path, read from the kernel
// (device node's rdev, or the mount table's source), never from memory.
import { lstatSync, readlinkSync } from "node:fs";
import { basename } from "node:path";
import type { MountEntry } from "@plasmacloud/common/mountinfo";

/** For block access the staged device node lives here, inside staging_target_path. */
export const BLOCK_STAGING_FILE = "device";

function majorMinor(rdev: number): string {
  const major = Math.floor(rdev / 256) & 0xfff;
  const minor = (rdev & 0xff) | (Math.floor(rdev / 4096) & 0xfff00);
  return `${major}:${minor}`;
}

/** "/dev/loopN" for a path that is a device node or a mount of a device; undefined otherwise. */
export async function deviceOfPath(path: string, mount: MountEntry | undefined): Promise<string | undefined> {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return undefined;
  }
  if (st.isBlockDevice()) {
    try {
      return `/dev/${basename(readlinkSync(`/sys/dev/block/${majorMinor(st.rdev)}`))}`;
    } catch {
      return undefined;
    }
  }
  if (mount && mount.source.startsWith("/dev/")) return mount.source;
  return undefined;
}

/** Mount entries that expose this device: filesystem mounts of it and bind mounts of its node. */
export function mountsOfDevice(entries: readonly MountEntry[], device: string): MountEntry[] {
  const name = basename(device);
  return entries.filter((e) => e.source === device || ((e.fsType === "devtmpfs" || e.fsType === "tmpfs") && e.root === `/${name}`));
}
