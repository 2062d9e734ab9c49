// Where a system tool lives, resolved once: runtimes may exec a program (a CNI
// plugin under containerd) with a thin PATH. Its own module so a program can
// resolve tools without loading node:child_process (novanet spawns with Bun).
import { existsSync } from "node:fs";

const resolved = new Map<string, string>();
/** Absolute path of a system tool (the name itself when it is nowhere in the usual dirs). */
export function tool(name: string): string {
  if (name.includes("/")) return name;
  let p = resolved.get(name);
  if (!p) {
    p = ["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin"].map((d) => `${d}/${name}`).find((c) => existsSync(c)) ?? name;
    resolved.set(name, p);
  }
  return p;
}
