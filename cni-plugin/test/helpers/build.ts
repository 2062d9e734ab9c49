// Integration tests run the real executable: build dist/novanet when it is
// missing or older than any source it is made from, so a clean checkout works.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export const pluginDir = new URL("../..", import.meta.url).pathname;
const repo = join(pluginDir, "..");
export const pluginBin = join(pluginDir, "dist/novanet");

function newest(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs);
  }
  return t;
}

export function ensureBuilt(): string {
  const sources = Math.max(
    // Bundled in: the plugin, @plasmacloud/common, proto's entries and contracts, the generated NovaNET code.
    newest(join(pluginDir, "src")), newest(join(repo, "common/src")), newest(join(repo, "proto/src")), newest(join(repo, "proto/gen/novanet")),
    statSync(join(pluginDir, "scripts/build.mjs")).mtimeMs, statSync(join(pluginDir, "package.json")).mtimeMs,
  );
  if (!existsSync(pluginBin) || statSync(pluginBin).mtimeMs < sources) {
    execFileSync("npm", ["run", "build", "-w", "cni-plugin"], { cwd: repo, stdio: ["ignore", "ignore", "inherit"] });
  }
  return pluginBin;
}
