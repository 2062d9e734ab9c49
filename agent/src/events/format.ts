// Durations as the kubelet's messages print them: Go's time.Duration String()
// after Truncate(time.Millisecond): "512ms", "1.234s", "2m3.5s", "1h0m0s".
export function goDuration(ms: number): string {
  const t = Math.max(0, Math.trunc(ms));
  if (t === 0) return "0s";
  if (t < 1000) return `${t}ms`;
  const h = Math.floor(t / 3_600_000);
  const m = Math.floor((t % 3_600_000) / 60_000);
  const s = ((t % 60_000) / 1000).toFixed(3).replace(/\.?0+$/, "");
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
