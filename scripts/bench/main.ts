// `npm run bench [-- PART...]`: runs the benchmark parts (all by default) on the
// real node stack and prints figures as ratios against a reference measured in
// the same run. A part is a file beside this one exporting `run(): Promise<void>`,
// one per component (agent.ts, cni.ts, csi.ts, dist.ts); files starting with
// "_" are their shared pieces. Every figure is min / median / max over its
// repetitions; the machine's load and `node -e 0` are printed with each part,
// so a slow machine tells itself apart from a slow change.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { machineLine } from "./_stats";

interface BenchModule { run: () => Promise<void> }

const dir = new URL(".", import.meta.url);
const available = readdirSync(dir).filter((f) => f.endsWith(".ts") && f !== "main.ts" && !f.startsWith("_")).map((f) => f.slice(0, -3)).sort();
const wanted = process.argv.slice(2);
for (const w of wanted) if (!available.includes(w)) { console.error(`bench: no part '${w}' (have: ${available.join(", ")})`); process.exit(2); }

const up = spawnSync("bash", [new URL("../node-stack/up.sh", dir).pathname], { stdio: "inherit" });
if (up.status !== 0) process.exit(up.status ?? 1);
for (const name of available) {
  if (wanted.length && !wanted.includes(name)) continue;
  console.log(`\n== bench: ${name} ==`);
  console.log(machineLine());
  const t0 = performance.now();
  const mod = (await import(new URL(`${name}.ts`, dir).href)) as BenchModule;
  await mod.run();
  console.log(`(${name}: ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}
