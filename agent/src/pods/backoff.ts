// Per-key backoff with the kubelet's semantics: the first retry is immediate,
// then 10 s doubling to a cap; an entry is forgotten once the thing it guards
// has been healthy long enough (a container running for 10 minutes).
export class KeyedBackoff {
  private readonly entries = new Map<string, { delayMs: number; at: number }>();

  constructor(private readonly initialMs: number, private readonly maxMs: number) {}

  /** Remaining wait in ms (0 = may proceed now). */
  remaining(key: string, now = Date.now()): number {
    const e = this.entries.get(key);
    return e ? Math.max(0, e.at + e.delayMs - now) : 0;
  }

  /** Records an attempt now; the next one waits the (doubled) delay. */
  next(key: string, now = Date.now()): number {
    const e = this.entries.get(key);
    const delayMs = e ? Math.min(e.delayMs * 2, this.maxMs) : this.initialMs;
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
