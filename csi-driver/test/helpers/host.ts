// Looks at the host from outside the driver: the mount table, losetup, files.
// Also the safety sweep that removes whatever a failed test left under its dir.
import { execFileSync } from "node:child_process";
import { mountsUnder as under, readMountInfo, type MountEntry } from "@plasmacloud/common/mountinfo";

/** A mount as these helpers report it (the agent's volume tests use it too). */
export type HostMount = MountEntry;

/**
 * Mounts at or below dir, deepest first, from /proc/self/mountinfo (with the
 * shared parser, tested on its own in common/; no driver code involved).
 */
export function mountsUnder(dir: string): HostMount[] {
  return under(readMountInfo(), dir);
}

interface Loop {
  name: string;
  backFile: string;
}

/** Every bound loop device, from `losetup --list --json`. */
function allLoops(): Loop[] {
  const raw = execFileSync("losetup", ["--list", "--json", "--output", "NAME,BACK-FILE"], { encoding: "utf8" });
  if (!raw.trim()) return [];
  const parsed = JSON.parse(raw) as { loopdevices?: { name: string; "back-file": string | null }[] };
  return (parsed.loopdevices ?? []).map((l) => ({ name: l.name, backFile: (l["back-file"] ?? "").replace(/ \(deleted\)$/, "") }));
}

/** Loop devices backed by another device (the driver's read-only views of a block volume). */
export function loopsOver(device: string): Loop[] {
  return allLoops().filter((l) => l.backFile === device);
}

/** Loop devices whose backing file is under dir. */
export function loopsUnder(dir: string): Loop[] {
  return allLoops().filter((l) => l.backFile.startsWith(dir + "/"));
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
    const ms = mountsUnder(dir);
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
  // Read-only views (loops over those loops, from block publishes) go first.
  const all = allLoops();
  const files = all.filter((l) => l.backFile.startsWith(dir + "/"));
  const views = all.filter((l) => files.some((f) => f.name === l.backFile));
  for (const l of [...views, ...files]) {
    try {
      execFileSync("losetup", ["-d", l.name]);
      cleaned.push(`losetup -d ${l.name}`);
    } catch {
      // already gone
    }
  }
  return cleaned;
}
