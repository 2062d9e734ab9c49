// "Is this output still good?" by modification times, the cheap way: an output
// is fresh when it is newer than every input file and was made by this Node
// (a stamp beside it names the Node; an upgraded Node must rebuild a SEA, and
// the new binary's mtime may well be older than the old outputs).
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** Newest mtime (ms) of the files under `paths`; node_modules, dist and dot-dirs skipped. */
export function newest(paths: string[]): number {
  let t = 0;
  for (const p of paths) {
    if (!existsSync(p)) continue;
    const s = statSync(p);
    if (!s.isDirectory()) {
      t = Math.max(t, s.mtimeMs);
      continue;
    }
    for (const name of readdirSync(p)) {
      if (name === "node_modules" || name === "dist" || name.startsWith(".")) continue;
      t = Math.max(t, newest([join(p, name)]));
    }
  }
  return t;
}

// Beside the output's directory, not in it: dist/ holds only what is shipped.
const stampOf = (out: string): string => join(dirname(out), ".build", `${basename(out)}.stamp`);
const builder = (): string => `${process.execPath} ${process.version}\n`;

export function isFresh(out: string, inputs: string[]): boolean {
  if (!existsSync(out) || !existsSync(stampOf(out))) return false;
  if (readFileSync(stampOf(out), "utf8") !== builder()) return false;
  return statSync(out).mtimeMs >= newest(inputs);
}

/** Records that `out` was just made by this Node (call after it is written). */
export function markBuilt(out: string): void {
  mkdirSync(dirname(stampOf(out)), { recursive: true });
  writeFileSync(stampOf(out), builder());
}
