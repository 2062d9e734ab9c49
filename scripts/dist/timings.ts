// Size and start-up time of each executable: a version query run a few times
// (after one warm-up run, so the page cache is warm for all), min/median/max
// of the wall time from spawn to exit. The environment is minimal, as a
// runtime or systemd gives it: no NODE_OPTIONS of the builder's shell.
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";

export interface Probe {
  name: string;
  path: string;
  args: string[];
  env?: Record<string, string>;
}

export interface Timing { min: number; median: number; max: number }

export function startupMs(p: Probe, runs = 5): Timing {
  const env = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", ...p.env };
  const once = (): number => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(p.path, p.args, { env, stdio: ["ignore", "pipe", "pipe"] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${p.name} ${p.args.join(" ")}: exit ${r.status}: ${r.stderr.toString()}`);
    return ms;
  };
  once();
  const xs = Array.from({ length: runs }, once).sort((a, b) => a - b);
  return { min: xs[0]!, median: xs[xs.length >> 1]!, max: xs[xs.length - 1]! };
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** The table `npm run dist` ends with; `sizeOnly`: executables listed by size, not started (arm64 ones, emulated here). */
export function report(probes: Probe[], tarballs: string[], sizeOnly: { name: string; path: string }[] = [], runs = 5): string {
  const rows = probes.map((p) => {
    const t = startupMs(p, runs);
    const how = `${Object.entries(p.env ?? {}).map(([k, v]) => `${k}=${v} `).join("")}${p.name} ${p.args.join(" ")}`.trim();
    return `  ${p.name.padEnd(23)} ${mib(statSync(p.path).size).padStart(10)}   ${[t.min, t.median, t.max].map((x) => x.toFixed(0)).join(" / ").padStart(15)} ms   (${how})`;
  });
  return [
    `  ${"executable".padEnd(23)} ${"size".padStart(10)}   start-up min / median / max of ${runs} runs`,
    ...rows,
    ...sizeOnly.map((e) => `  ${e.name.padEnd(23)} ${mib(statSync(e.path).size).padStart(10)}   ${"(not started)".padStart(15)}`),
    ...tarballs.map((t) => `  ${"tarball".padEnd(23)} ${mib(statSync(t).size).padStart(10)}   ${t}`),
  ].join("\n");
}
