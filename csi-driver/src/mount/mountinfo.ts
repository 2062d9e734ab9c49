// /proc/self/mountinfo parsing: the mount table is the source of truth for
// what is staged or published, so state survives a driver restart.
import { readFileSync, realpathSync } from "node:fs";
import { resolve } from "node:path";

export interface MountEntry {
  mountId: number;
  parentId: number;
  /** st_dev of the mounted filesystem, "major:minor". */
  majorMinor: string;
  /** Path inside the source filesystem that is mounted here ("/" unless a bind of a subtree). */
  root: string;
  mountPoint: string;
  /** Per-mount options (rw/ro, nosuid, ...). */
  options: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

// mountinfo escapes space, tab, newline and backslash as \ooo octal.
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

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

// /proc and /sys reads are synchronous on purpose: they never touch a disk,
// and skipping the thread-pool round trip keeps each RPC's overhead small.
export async function readMountInfo(file = "/proc/self/mountinfo"): Promise<MountEntry[]> {
  return parseMountInfo(readFileSync(file, "utf8"));
}

/** The path as the mount table spells it: symlinks resolved when it exists. */
export async function canonicalPath(p: string): Promise<string> {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

/** The mount visible at exactly this path (the last one stacked there), if any. */
export function mountAt(entries: readonly MountEntry[], path: string): MountEntry | undefined {
  let found: MountEntry | undefined;
  for (const e of entries) if (e.mountPoint === path) found = e;
  return found;
}

export function isReadOnly(e: MountEntry): boolean {
  return e.options.includes("ro");
}
