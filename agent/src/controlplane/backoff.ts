// Exponential backoff with jitter, shared by every retry loop of the agent.
export class Backoff {
  private current = 0;

  constructor(private readonly initialMs: number, private readonly maxMs: number, private readonly jitter = 0.2) {}

  /** The next delay: initial, then doubling up to max, each with ±jitter. */
  next(): number {
    this.current = this.current === 0 ? this.initialMs : Math.min(this.current * 2, this.maxMs);
    return Math.round(this.current * (1 - this.jitter + Math.random() * 2 * this.jitter));
  }

  reset(): void {
    this.current = 0;
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
