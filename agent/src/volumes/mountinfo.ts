// The mount table as the kernel has it (/proc/self/mountinfo): the source of
// truth for "is this set up", so the answer survives an agent restart.
import { readFile } from "node:fs/promises";

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
  options: string[];
}

const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(" ");
    const sep = f.indexOf("-");
    if (sep < 6) continue;
    out.push({ mountPoint: unescape(f[4] ?? ""), options: (f[5] ?? "").split(","), fsType: f[sep + 1] ?? "", source: unescape(f[sep + 2] ?? "") });
  }
  return out;
}

export async function readMounts(): Promise<MountEntry[]> {
  return parseMountInfo(await readFile("/proc/self/mountinfo", "utf8"));
}

/** The topmost mount at exactly this path, if any. */
export function mountAt(mounts: MountEntry[], path: string): MountEntry | undefined {
  return mounts.filter((m) => m.mountPoint === path).at(-1);
}

/** Mounts at or below dir, deepest first (the order to unmount them in). */
export function mountsUnder(mounts: MountEntry[], dir: string): MountEntry[] {
  return mounts.filter((m) => m.mountPoint === dir || m.mountPoint.startsWith(dir + "/")).sort((a, b) => b.mountPoint.length - a.mountPoint.length);
}
