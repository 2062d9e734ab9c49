// fsGroup on a volume: the kubelet's SetVolumeOwnership (pkg/volume/volume_linux.go).
// Every file and directory gets group fsGroup and group rw (r for a read-only
// volume); directories also get group x and setgid, so what the pod creates later
// belongs to fsGroup too. Files keep their other bits (no group x is added to a
// file, as the kubelet). Symlinks are lchown'ed, never chmod'ed or followed.
//
// The walk never leaves the volume, even while a pod that shares it swaps a
// directory for a symlink: every entry is reached through an O_PATH descriptor of
// its parent (/proc/self/fd/N/name) and changed through its own O_PATH descriptor
// (/proc/self/fd/M), so no path is resolved twice.
import { constants } from "node:fs";
import { chmod, chown, lchown, lstat, open, readdir, stat, type FileHandle } from "node:fs/promises";
import { CodedError, errorMessage } from "@plasmacloud/common/errors";

const RW = 0o660;
const RO = 0o440;
const EXEC = 0o110;
const SETGID = 0o2000;
// Linux's O_PATH (asm-generic, x86-64 and arm64 alike); Node does not export it.
const O_PATH = 0o10000000;
const ANCHOR = O_PATH | constants.O_NOFOLLOW;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
/** The kubelet warns after 30 s of walking, then reports progress every 60 s. */
export const SLOW_AFTER_MS = 30_000;
export const PROGRESS_EVERY_MS = 60_000;

/** Kubernetes' PodFSGroupChangePolicy; unset is Always. */
export type FSGroupChangePolicy = "Always" | "OnRootMismatch";
export const FS_GROUP_CHANGE_POLICIES: readonly FSGroupChangePolicy[] = ["OnRootMismatch", "Always"];

/** The mode the kubelet gives a file or directory of a volume with fsGroup. */
export function ownedMode(mode: number, isDir: boolean, readOnly: boolean): number {
  let m = readOnly ? RO : RW;
  if (isDir) m |= SETGID | EXEC;
  return (mode & 0o7777) | m;
}

/** The kubelet's requiresPermissionChange: the root is not (yet) a directory of gid with group rwx (r-x) and setgid. */
export async function rootNeedsChange(root: string, gid: number, readOnly: boolean): Promise<boolean> {
  const st = await stat(root).catch(() => undefined);
  if (!st || st.gid !== gid || !st.isDirectory()) return true;
  const want = (readOnly ? RO : RW) | EXEC;
  return (st.mode & want) !== want || (st.mode & SETGID) === 0;
}

export interface OwnershipOptions {
  readOnly: boolean;
  /** OnRootMismatch skips the walk when rootNeedsChange is false; Always (default) walks. */
  policy?: FSGroupChangePolicy;
  /** Called with the entries visited so far after SLOW_AFTER_MS, then every PROGRESS_EVERY_MS. */
  onSlow?: (visited: number, first: boolean) => void;
}

export interface OwnershipResult {
  /** OnRootMismatch found the root right: nothing was walked. */
  skipped: boolean;
  visited: number;
  /** Entries whose chown or chmod failed: logged and carried on, as the kubelet does. */
  failed: number;
  /** The first few failures, "path/in/volume: ECODE". */
  failures: string[];
}

const MAX_REPORTED = 5;

/**
 * Applies gid to the whole tree under root (root last, as the kubelet's
 * walkDeep, so an interrupted walk leaves the root unchanged and the next one
 * under OnRootMismatch walks again). A failed chown/chmod is counted and the walk
 * goes on; a directory that cannot be read aborts it (thrown), as in the kubelet.
 */
export async function setVolumeOwnership(root: string, gid: number, o: OwnershipOptions): Promise<OwnershipResult> {
  const out: OwnershipResult = { skipped: false, visited: 0, failed: 0, failures: [] };
  if (o.policy === "OnRootMismatch" && !(await rootNeedsChange(root, gid, o.readOnly))) return { ...out, skipped: true };
  const fh = await open(root, ANCHOR);
  let interval: NodeJS.Timeout | undefined;
  const slow = o.onSlow
    ? setTimeout(() => {
        o.onSlow!(out.visited, true);
        interval = setInterval(() => o.onSlow!(out.visited, false), PROGRESS_EVERY_MS);
      }, SLOW_AFTER_MS)
    : undefined;
  try {
    await new Walk(gid, o.readOnly, out).entry(fh, undefined, "");
  } finally {
    clearTimeout(slow);
    clearInterval(interval);
    await fh.close();
  }
  return out;
}

const viaFd = (fd: number, name?: string): string => (name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`);

class Walk {
  constructor(private readonly gid: number, private readonly readOnly: boolean, private readonly out: OwnershipResult) {}

  /** One entry held by fh (O_PATH); its parent's descriptor and name for lchown of a symlink. */
  async entry(fh: FileHandle, parent: { fd: number; name: string } | undefined, rel: string): Promise<void> {
    const st = await fh.stat();
    const type = st.mode & S_IFMT;
    if (type === S_IFDIR) await this.children(fh, rel);
    this.out.visited++;
    if (type === S_IFLNK) {
      // Only the link itself, named in its pinned parent: lchown never follows the last component.
      if (parent && st.gid !== this.gid) await this.attempt(rel, () => lchown(viaFd(parent.fd, parent.name), -1, this.gid));
      return;
    }
    // Through the entry's own descriptor: the very inode that was stat'ed, whatever the path holds now.
    if (st.gid !== this.gid) await this.attempt(rel, () => chown(viaFd(fh.fd), -1, this.gid));
    const want = ownedMode(st.mode, type === S_IFDIR, this.readOnly);
    if ((st.mode & 0o7777) !== want) await this.attempt(rel, () => chmod(viaFd(fh.fd), want));
  }

  private async children(dir: FileHandle, rel: string): Promise<void> {
    for (const name of await readdir(viaFd(dir.fd))) {
      let child: FileHandle;
      try {
        child = await open(viaFd(dir.fd, name), ANCHOR);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") continue; // removed meanwhile: nothing to own
        throw err;
      }
      try {
        await this.entry(child, { fd: dir.fd, name }, rel ? `${rel}/${name}` : name);
      } finally {
        await child.close();
      }
    }
  }

  private async attempt(rel: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.out.failed++;
      if (this.out.failures.length < MAX_REPORTED) this.out.failures.push(`${rel || "."}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
    }
  }
}

/** Group-owns one file or directory (not through a symlink). */
export async function own(path: string, gid: number, readOnly: boolean): Promise<void> {
  const st = await lstat(path);
  if (st.gid !== gid) await lchown(path, -1, gid);
  if (st.isSymbolicLink()) return;
  const want = ownedMode(st.mode, st.isDirectory(), readOnly);
  if ((st.mode & 0o7777) !== want) await chmod(path, want);
}

/** Group-owns the whole tree under dir (a volume the agent made itself): any failure is an error. */
export async function ownTree(dir: string, gid: number, readOnly: boolean): Promise<void> {
  const r = await setVolumeOwnership(dir, gid, { readOnly });
  if (r.failed > 0) throw new CodedError("Internal", `cannot apply fsGroup ${gid} to ${r.failed} entries of ${dir}: ${r.failures.join(", ")}`, { dir, gid });
}
