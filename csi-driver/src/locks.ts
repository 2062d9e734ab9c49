// Per-volume in-flight guard: a second call for a volume while one is running
// gets ABORTED (the CSI spec's "operation pending for volume"); the CO retries.
import { status } from "@grpc/grpc-js";
import { CsiError } from "./errors";

export class VolumeLocks {
  private readonly busy = new Map<string, string>();

  async with<T>(volumeId: string, operation: string, fn: () => Promise<T>): Promise<T> {
    const running = this.busy.get(volumeId);
    if (running !== undefined) {
      throw new CsiError(status.ABORTED, `an operation (${running}) is already in progress for volume ${volumeId}`, {
        volumeId,
        operation,
      });
    }
    this.busy.set(volumeId, operation);
    try {
      return await fn();
    } finally {
      this.busy.delete(volumeId);
    }
  }

  inFlight(): number {
    return this.busy.size;
  }
}
