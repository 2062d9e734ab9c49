// /proc/self/mountinfo: the kernel's mount table is the source of truth for
// what is mounted, so every answer survives a restart of the program asking.
import { readFileSync, realpathSync } from "node:fs";
import { resolve } from "node:path";

export interface MountEntry {
  mountId: number;
  parentId: number;
  /** st_dev of the mounted filesystem, "major:minor". */
  majorMinor: string;
  /** Path inside the source filesystem mounted here ("/" unless a bind of a subtree). */
  root: string;
  mountPoint: string;
  /** Per-mount options (rw/ro, nosuid, ...). */
  options: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

// mountinfo escapes space, tab, newline and backslash as \ooo octal.
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));

export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const f = line.split(" ");
    const sep = f.indexOf("-", 6);
    if (f.length < 10 || sep < 0 || f.length < sep + 3) continue;
    out.push({
      mountId: Number(f[0]),
      parentId: Number(f[1]),
      majorMinor: f[2] as string,
      root: unescape(f[3] as string),
      mountPoint: unescape(f[4] as string),
      options: (f[5] as string).split(","),
      fsType: f[sep + 1] as string,
      source: unescape(f[sep + 2] as string),
      superOptions: (f[sep + 3] ?? "").split(","),
    });
  }
  return out;
}

// Synchronous on purpose: /proc never touches a disk, and skipping the thread
// pool round trip keeps each caller's overhead small.
export function readMountInfo(file = "/proc/self/mountinfo"): MountEntry[] {
  return parseMountInfo(readFileSync(file, "utf8"));
}

/** The mount visible at exactly this path (the last one stacked there), if any. */
export function mountAt(entries: readonly MountEntry[], path: string): MountEntry | undefined {
  let found: MountEntry | undefined;
  for (const e of entries) if (e.mountPoint === path) found = e;
  return found;
}

/** Mounts at or below dir, deepest first (the order to unmount them in). */
export function mountsUnder(entries: readonly MountEntry[], dir: string): MountEntry[] {
  return entries.filter((m) => m.mountPoint === dir || m.mountPoint.startsWith(dir + "/")).sort((a, b) => b.mountPoint.length - a.mountPoint.length);
}

export function isReadOnly(e: MountEntry): boolean {
  return e.options.includes("ro");
}

/** The path as the mount table spells it: symlinks resolved when it exists. */
export function canonicalPath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}
