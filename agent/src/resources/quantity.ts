// Kubernetes resource quantities ("500m", "1.5", "64Mi", "1e3", "2G").
const SUFFIX: Record<string, number> = {
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
  n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
};
const RE = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;

/** The quantity's value, or undefined when it is not a valid quantity. */
export function parseQuantity(q: string): number | undefined {
  const m = RE.exec(q.trim());
  if (!m) return undefined;
  const base = Number(m[1]);
  const v = m[2] ? base * 10 ** Number(m[2].slice(1)) : base * (SUFFIX[m[3] ?? ""] as number);
  return Number.isFinite(v) && v >= 0 ? v : undefined;
}

export const milliCpu = (q: string | undefined): number => (q ? Math.ceil((parseQuantity(q) ?? 0) * 1000 - 1e-9) : 0);
export const bytes = (q: string | undefined): number => (q ? Math.ceil(parseQuantity(q) ?? 0) : 0);

/** "10%" of total, or an absolute quantity. */
export function thresholdBytes(spec: string, total: number): number {
  if (spec.endsWith("%")) return (Number(spec.slice(0, -1)) / 100) * total;
  return parseQuantity(spec) ?? 0;
}

/** Formats bytes the way the API shows capacity ("16384Mi" style, Ki granularity). */
export const formatKi = (b: number): string => `${Math.floor(b / 1024)}Ki`;
