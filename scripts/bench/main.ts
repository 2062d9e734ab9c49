// `npm run bench [-- PART...]`: runs the benchmark parts (all by default) on the
// real node stack and prints figures as ratios against a reference measured in
// the same run. Parts live beside this file, one per component.
import { spawnSync } from "node:child_process";

interface BenchPart { name: string; load: () => Promise<{ run: () => Promise<void> }> }

const parts: BenchPart[] = [
  { name: "agent", load: () => import("./agent") },
  { name: "cni", load: () => import("./cni") },
  { name: "csi", load: () => import("./csi") },
];

const wanted = process.argv.slice(2);
const up = spawnSync("bash", [new URL("../node-stack/up.sh", import.meta.url).pathname], { stdio: "inherit" });
if (up.status !== 0) process.exit(up.status ?? 1);
for (const p of parts) {
  if (wanted.length && !wanted.includes(p.name)) continue;
  console.log(`\n== bench: ${p.name} ==`);
  const mod = await p.load();
  await mod.run();
}
