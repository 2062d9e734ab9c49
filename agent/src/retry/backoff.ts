// Exponential backoff: an initial delay doubling up to a cap. Two forms share
// the one rule: Backoff paces a single retry loop (with jitter, so a fleet
// does not retry in step); KeyedBackoff gates many independent things (a
// container's restarts, an image's pulls) with the kubelet's semantics.

const grow = (prevMs: number, initialMs: number, maxMs: number): number => (prevMs === 0 ? initialMs : Math.min(prevMs * 2, maxMs));

export class Backoff {
  private current = 0;

  constructor(private readonly initialMs: number, private readonly maxMs: number, private readonly jitter = 0.2) {}

  /** The next delay: initial, then doubling up to max, each with ±jitter. */
  next(): number {
    this.current = grow(this.current, this.initialMs, this.maxMs);
    return Math.round(this.current * (1 - this.jitter + Math.random() * 2 * this.jitter));
  }

  reset(): void {
    this.current = 0;
  }
}

/**
 * Per-key backoff: the first attempt is immediate, each recorded attempt makes
 * the next one wait the (doubled) delay; a key is forgotten once the thing it
 * guards has been healthy long enough (reset by the caller).
 */
export class KeyedBackoff {
  private readonly entries = new Map<string, { delayMs: number; at: number }>();

  constructor(private readonly initialMs: number, private readonly maxMs: number) {}

  /** Remaining wait in ms (0 = may proceed now). */
  remaining(key: string, now = Date.now()): number {
    const e = this.entries.get(key);
    return e ? Math.max(0, e.at + e.delayMs - now) : 0;
  }

  /** Records an attempt now; the next one waits the returned delay. */
  next(key: string, now = Date.now()): number {
    const delayMs = grow(this.entries.get(key)?.delayMs ?? 0, this.initialMs, this.maxMs);
    this.entries.set(key, { delayMs, at: now });
    return delayMs;
  }

  /** The delay currently in force for the key (0 when none). */
  delay(key: string): number {
    return this.entries.get(key)?.delayMs ?? 0;
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Drops every key with this prefix (a pod's entries when it goes away). */
  forgetPrefix(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}

/** Resolves after ms, or at once when the signal aborts (a stopping loop never waits out a timer). */
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
