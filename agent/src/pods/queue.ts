// The per-pod work queue (Virtual Kubelet's queue.go, the kubelet's pod
// workers): at most one worker runs per pod; a pod enqueued while its worker
// runs is worked once more right after (many wake-ups coalesce into one); a
// delayed enqueue keeps only the earliest timer per pod.
export class PodQueue {
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, { at: number; t: NodeJS.Timeout }>();
  private stopped = false;

  /** `work` must not throw: it owns its error handling (and requeues). */
  constructor(private readonly work: (uid: string) => Promise<void>) {}

  enqueue(uid: string, delayMs = 0): void {
    if (this.stopped) return;
    if (delayMs > 0) {
      const at = Date.now() + delayMs;
      const cur = this.timers.get(uid);
      if (cur && cur.at <= at) return;
      if (cur) clearTimeout(cur.t);
      const t = setTimeout(() => {
        this.timers.delete(uid);
        this.enqueue(uid);
      }, delayMs);
      t.unref();
      this.timers.set(uid, { at, t });
      return;
    }
    if (this.running.has(uid)) {
      this.dirty.add(uid);
      return;
    }
    void this.run(uid);
  }

  private async run(uid: string): Promise<void> {
    this.running.add(uid);
    try {
      do {
        this.dirty.delete(uid);
        await this.work(uid);
      } while (this.dirty.has(uid) && !this.stopped);
    } finally {
      this.running.delete(uid);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const { t } of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
