// What a scratch root holds, seen from outside: every path under it (as the
// target system sees it, "/etc/..."), its kind, mode and content hash or link
// target. Tests compare these before and after install.sh runs.
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

export interface Entry {
  kind: "file" | "dir" | "link";
  mode: string;
  /** sha256 of a file, the target of a link, "" for a directory. */
  sum: string;
}

export function tree(root: string): Map<string, Entry> {
  const out = new Map<string, Entry>();
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const p = `${rel}/${name}`;
      const abs = join(root, p);
      const s = lstatSync(abs);
      const mode = (s.mode & 0o7777).toString(8);
      if (s.isSymbolicLink()) out.set(p, { kind: "link", mode, sum: readlinkSync(abs) });
      else if (s.isDirectory()) {
        out.set(p, { kind: "dir", mode, sum: "" });
        walk(p);
      } else out.set(p, { kind: "file", mode, sum: createHash("sha256").update(readFileSync(abs)).digest("hex") });
    }
  };
  walk("");
  return out;
}

/** tree() as a plain sorted list, for deepEqual. */
export function snapshot(root: string): string[] {
  return [...tree(root)].map(([p, e]) => `${e.kind} ${e.mode} ${e.sum} ${p}`);
}
