// The installable executables (`npm run dist`): size and start-up time of each
// one's version query, as min/median/max, against `node -e 0` measured in the
// same run (a slow machine shows in both; a slow executable only in its ratio).
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { dist, repo, targets } from "../dist/targets";
import { startupMs, type Timing } from "../dist/timings";

const RUNS = 15;
const fmt = (t: Timing): string => [t.min, t.median, t.max].map((x) => x.toFixed(0)).join(" / ");

export async function run(): Promise<void> {
  const built = spawnSync(process.execPath, ["--import", "tsx", join(repo, "scripts/dist/main.ts"), "--no-timings"], { cwd: repo, stdio: ["ignore", "ignore", "inherit"] });
  if (built.status !== 0) throw new Error("bench dist: npm run dist failed");
  const node = startupMs({ name: "node", path: process.execPath, args: ["-e", "0"] }, RUNS);
  console.log(`start-up, min / median / max of ${RUNS} runs (ms); ratio = median / median of node -e 0`);
  console.log(`  ${"node -e 0".padEnd(20)} ${"".padStart(10)}  ${fmt(node).padStart(15)}   1.00x`);
  for (const t of targets) {
    const path = join(dist, t.name);
    const tm = startupMs({ name: t.name, path, ...t.version }, RUNS);
    const size = `${(statSync(path).size / 2 ** 20).toFixed(1)} MiB`;
    console.log(`  ${t.name.padEnd(20)} ${size.padStart(10)}  ${fmt(tm).padStart(15)}   ${(tm.median / node.median).toFixed(2)}x`);
  }
  // arm64: size only (start-up here would time qemu's emulation, not the executable).
  for (const t of targets) console.log(`  ${`arm64/${t.name}`.padEnd(20)} ${`${(statSync(join(dist, "linux-arm64", t.name)).size / 2 ** 20).toFixed(1)} MiB`.padStart(10)}`);
}
