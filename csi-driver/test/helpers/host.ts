// Looks at the host from outside the driver: the mount table, losetup, files.
// Also the safety sweep that removes whatever a failed test left under its dir.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

export interface HostMount {
  mountPoint: string;
  source: string;
  fsType: string;
  options: string[];
}

const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Mounts whose mount point is under dir, from /proc/self/mountinfo (parsed independently of the driver). */
export function mountsUnder(dir: string): HostMount[] {
  const out: HostMount[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const f = line.split(" ");
    const sep = f.indexOf("-");
    if (sep < 0) continue;
    const mp = unescape(f[4] ?? "");
    if (mp === dir || mp.startsWith(dir + "/")) {
      out.push({ mountPoint: mp, source: f[sep + 2] ?? "", fsType: f[sep + 1] ?? "", options: (f[5] ?? "").split(",") });
    }
  }
  return out;
}

/** Loop devices whose backing file is under dir, from `losetup --list --json`. */
export function loopsUnder(dir: string): { name: string; backFile: string }[] {
  const raw = execFileSync("losetup", ["--list", "--json", "--output", "NAME,BACK-FILE"], { encoding: "utf8" });
  if (!raw.trim()) return [];
  const parsed = JSON.parse(raw) as { loopdevices?: { name: string; "back-file": string | null }[] };
  return (parsed.loopdevices ?? [])
    .map((l) => ({ name: l.name, backFile: (l["back-file"] ?? "").replace(/ \(deleted\)$/, "") }))
    .filter((l) => l.backFile.startsWith(dir + "/"));
}

export function findmntTarget(path: string): { target: string; source: string; options: string } | undefined {
  try {
    const raw = execFileSync("findmnt", ["--json", "--mountpoint", path, "--output", "TARGET,SOURCE,OPTIONS"], { encoding: "utf8" });
    const parsed = JSON.parse(raw) as { filesystems: { target: string; source: string; options: string }[] };
    return parsed.filesystems.at(-1);
  } catch {
    return undefined; // findmnt exits 1 when nothing is mounted there
  }
}

/** Unmounts and detaches everything a test made under dir (deepest first). Returns what it had to clean. */
export function sweep(dir: string): string[] {
  const cleaned: string[] = [];
  for (let i = 0; i < 10; i++) {
    const ms = mountsUnder(dir).sort((a, b) => b.mountPoint.length - a.mountPoint.length);
    if (!ms.length) break;
    for (const m of ms) {
      try {
        execFileSync("umount", ["-l", m.mountPoint]);
        cleaned.push(`umount ${m.mountPoint}`);
      } catch {
        // already gone
      }
    }
  }
  for (const l of loopsUnder(dir)) {
    try {
      execFileSync("losetup", ["-d", l.name]);
      cleaned.push(`losetup -d ${l.name}`);
    } catch {
      // already gone
    }
  }
  return cleaned;
}
