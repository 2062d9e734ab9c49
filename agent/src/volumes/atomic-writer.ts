// The kubelet's AtomicWriter: a payload is written into a fresh timestamped
// directory, then published by renaming a "..data_tmp" symlink over "..data";
// the user-visible names are symlinks through "..data". A reader therefore
// sees the old or the new payload, never a mix.
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, stat, symlink, unlink, writeFile } from "node:fs/promises";
import { dirname, join, normalize } from "node:path";
import { CodedError } from "@plasmacloud/common/errors";
import { own, ownedMode, ownTree } from "./ownership";

export interface FileProjection {
  data: Uint8Array;
  mode: number;
}

export const DATA_DIR = "..data";
const DATA_TMP = "..data_tmp";

/** Validates a payload path the way the kubelet does: relative, no "..", not starting with "..". */
export function checkPayloadPath(p: string): string | undefined {
  if (!p) return "must not be empty";
  if (p.startsWith("/")) return "must be a relative path";
  if (p.length > 4096) return "is too long";
  const parts = p.split("/");
  if (parts.includes("..")) return "must not contain '..'";
  if (p.startsWith("..")) return "must not start with '..'";
  if (normalize(p) !== p) return "must be a normalized path";
  return undefined;
}

function timestampedName(): string {
  const d = new Date().toISOString().replace(/[-:T]/g, "_").replace(/\..*$/, "");
  return `..${d}.`;
}

async function same(dir: string, payload: Map<string, FileProjection>, gid: number | undefined): Promise<boolean> {
  const seen = new Set<string>();
  const walk = async (rel: string): Promise<boolean> => {
    for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!(await walk(r))) return false;
        continue;
      }
      const want = payload.get(r);
      if (!want) return false;
      const st = await stat(join(dir, r));
      if ((st.mode & 0o7777) !== (gid === undefined ? want.mode : ownedMode(want.mode, false, true))) return false;
      if (gid !== undefined && st.gid !== gid) return false;
      if (!Buffer.from(want.data).equals(await readFile(join(dir, r)))) return false;
      seen.add(r);
    }
    return true;
  };
  return (await walk("")) && seen.size === payload.size;
}

/**
 * Writes the payload into targetDir atomically; returns true when anything
 * changed. With fsGroup, every file and directory is group-owned by it and
 * group-readable, as the kubelet's SetVolumeOwnership makes a read-only volume.
 */
export async function writeAtomic(targetDir: string, payload: Map<string, FileProjection>, fsGroup?: number): Promise<boolean> {
  for (const p of payload.keys()) {
    const bad = checkPayloadPath(p);
    if (bad) throw new CodedError("InvalidArgument", `payload path '${p}' ${bad}`, { path: p });
  }
  const dataLink = join(targetDir, DATA_DIR);
  const old = await readlink(dataLink).catch(() => undefined);
  const changed = !old || !(await same(join(targetDir, old), payload, fsGroup).catch(() => false));
  if (fsGroup !== undefined) await own(targetDir, fsGroup, true);
  if (changed) {
    const tsDir = await mkdtemp(join(targetDir, timestampedName()));
    // mkdtemp makes it 0700: a pod running as non-root must be able to walk through it.
    await chmod(tsDir, 0o755);
    for (const [p, f] of payload) {
      const file = join(tsDir, p);
      await mkdir(dirname(file), { recursive: true, mode: 0o755 });
      await writeFile(file, f.data, { mode: f.mode });
      // writeFile's mode is filtered by the umask; set it exactly.
      await chmod(file, f.mode);
    }
    if (fsGroup !== undefined) await ownTree(tsDir, fsGroup, true);
    const tsName = tsDir.slice(targetDir.length + 1);
    await rm(join(targetDir, DATA_TMP), { force: true });
    await symlink(tsName, join(targetDir, DATA_TMP));
    await rename(join(targetDir, DATA_TMP), dataLink);
    if (old && old !== tsName) await rm(join(targetDir, old), { recursive: true, force: true });
  }
  // User-visible names: one symlink per top-level entry of the payload.
  const top = new Set([...payload.keys()].map((p) => p.split("/")[0]!));
  for (const name of top) {
    const link = join(targetDir, name);
    const cur = await readlink(link).catch(() => undefined);
    if (cur === join(DATA_DIR, name)) continue;
    await rm(link, { recursive: true, force: true });
    await symlink(join(DATA_DIR, name), link);
  }
  for (const name of await readdir(targetDir)) {
    if (name.startsWith("..") || top.has(name)) continue;
    if ((await lstat(join(targetDir, name))).isSymbolicLink()) {
      await unlink(join(targetDir, name));
    }
  }
  return changed;
}
