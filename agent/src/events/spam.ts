// client-go's EventSourceObjectSpamFilter: a token bucket per source + involved
// object (burst 25, refilled at 1 event per 5 minutes), so an object that is
// always unhealthy costs the control plane a trickle, not a flood. The bucket
// is taken after aggregation: every counted repeat spends a token too.
import type { Event } from "@plasmacloud/proto/k8shost";
import { Lru } from "./lru";

export const SPAM_BURST = 25;
export const SPAM_QPS = 1 / 300;

interface Bucket {
  tokens: number;
  at: number;
}

export function spamKey(e: Event): string {
  const o = e.involvedObject;
  return [e.source?.component, e.source?.host, o?.kind, o?.namespace, o?.name, o?.uid].join("\u0000");
}

export class SpamFilter {
  private readonly buckets: Lru<Bucket>;

  constructor(
    cacheSize: number,
    private readonly now: () => number,
    private readonly burst = SPAM_BURST,
    private readonly qps = SPAM_QPS,
  ) {
    this.buckets = new Lru(cacheSize);
  }

  /** True when the event must be skipped (its source+object bucket is empty). */
  filter(e: Event): boolean {
    const key = spamKey(e);
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.qps);
    b.at = t;
    const skip = b.tokens < 1;
    if (!skip) b.tokens -= 1;
    this.buckets.set(key, b);
    return skip;
  }
}
