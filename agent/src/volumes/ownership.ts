// fsGroup on the volumes the agent makes: the kubelet's SetVolumeOwnership.
// Every file and directory is group-owned by fsGroup and group-readable
// (writable unless the volume is read-only); directories get setgid so what
// the pod creates later belongs to fsGroup too.
import { chmod, lchown, lstat, readdir } from "node:fs/promises";
import { join } from "node:path";

const RW = 0o660;
const RO = 0o440;
const EXEC = 0o110;
const SETGID = 0o2000;

/** The mode the kubelet gives a file or directory of a volume with fsGroup. */
export function ownedMode(mode: number, isDir: boolean, readOnly: boolean): number {
  let m = readOnly ? RO : RW;
  if (isDir) m |= SETGID | EXEC;
  return (mode & 0o7777) | m;
}

/** Group-owns one file or directory (not through a symlink). */
export async function own(path: string, gid: number, readOnly: boolean): Promise<void> {
  const st = await lstat(path);
  if (st.gid !== gid) await lchown(path, -1, gid);
  if (st.isSymbolicLink()) return;
  const want = ownedMode(st.mode, st.isDirectory(), readOnly);
  if ((st.mode & 0o7777) !== want) await chmod(path, want);
}

/** Group-owns the whole tree under dir, dir itself last. */
export async function ownTree(dir: string, gid: number, readOnly: boolean): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await ownTree(p, gid, readOnly);
    else await own(p, gid, readOnly);
  }
  await own(dir, gid, readOnly);
}
