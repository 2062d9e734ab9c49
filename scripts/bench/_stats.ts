// Shared by the bench parts: percentiles, "min / median / max" over
// repetitions, the machine's own speed (`node -e 0`) and load, and tables.
import { spawnSync } from "node:child_process";
import { cpus, loadavg } from "node:os";

export const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);

export function median(xs: number[]): number {
  const s = sorted(xs);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Nearest-rank percentile (p99 of 30 values is the largest). */
export function pct(xs: number[], p: number): number {
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
}

/** "min / median / max" of the repetitions. */
export function mmm(xs: number[], digits = 0, unit = ""): string {
  if (!xs.length) return "-";
  const s = sorted(xs);
  const f = (x: number): string => x.toFixed(digits);
  return `${f(s[0] as number)} / ${f(median(xs))} / ${f(s[s.length - 1] as number)}${unit}`;
}

/** Wall time of `node -e 0` (this machine's Node start-up), one warm-up run first. */
export function nodeStartMs(runs = 10): number[] {
  const once = (): number => {
    const t0 = process.hrtime.bigint();
    spawnSync(process.execPath, ["-e", "0"], { env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" }, stdio: "ignore" });
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  once();
  return Array.from({ length: runs }, once);
}

/** The machine as the figures were taken: cores, load, Node's start-up. */
export function machineLine(runs = 10): string {
  const [l1, l5, l15] = loadavg().map((x) => x.toFixed(2));
  return `machine: ${cpus().length} cores, load ${l1} ${l5} ${l15}, node -e 0 ${mmm(nodeStartMs(runs), 1)} ms (min / median / max of ${runs})`;
}

/** Left-aligned first column, the rest right-aligned. */
export function table(rows: string[][], indent = "  "): string {
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => (r[j] ?? "").length)));
  return rows.map((r) => indent + r.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join("   ").trimEnd()).join("\n");
}

/** The steps of one repetition in a seeded order: each runs first, middle and last equally often. */
export function shuffled<T>(xs: T[], seed: number): T[] {
  const out = [...xs];
  let r = (seed * 2654435761) % 2 ** 32;
  for (let k = out.length - 1; k > 0; k--) {
    r = (r * 1664525 + 1013904223) % 2 ** 32;
    const j = r % (k + 1);
    [out[k], out[j]] = [out[j] as T, out[k] as T];
  }
  return out;
}

/** An integer setting of the bench from the environment, with its default. */
export function envInt(name: string, dflt: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`bench: ${name}=${raw} must be an integer >= ${min}`);
  return n;
}
