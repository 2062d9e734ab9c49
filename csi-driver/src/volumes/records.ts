// On-disk record of each volume staged on this node, written before any
// effect so a crash mid-stage still leaves a trail to clean up. The mount
// table and the loop devices remain the truth for what exists; the record
// adds what they cannot say (which file backs the volume, which directories
// we created, the staged mount flags). Publications need no record: the mount
// table says what is bound where, and read-only or not.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface StagingRecord {
  volumeId: string;
  stagingPath: string;
  access: "mount" | "block";
  fsType: string;
  /** Kept to compare re-stages and to remount after an offline grow; the
   *  record is 0600 in a 0700 directory and never logged. */
  mountFlags: string[];
  mode: number;
  transport: string;
  filePath: string;
  createdStagingDir: boolean;
}

export class StagingRecords {
  private readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, "staged");
  }

  private file(volumeId: string): string {
    // Volume ids are opaque: hash them into a safe file name.
    return join(this.dir, `${createHash("sha256").update(volumeId).digest("hex").slice(0, 40)}.json`);
  }

  async get(volumeId: string): Promise<StagingRecord | undefined> {
    try {
      const rec = JSON.parse(readFileSync(this.file(volumeId), "utf8")) as StagingRecord;
      return rec.volumeId === volumeId ? rec : undefined;
    } catch {
      return undefined;
    }
  }

  async put(rec: StagingRecord): Promise<void> {
    // Small local writes, done synchronously: cheaper than a thread-pool hop.
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const f = this.file(rec.volumeId);
    writeFileSync(`${f}.tmp`, JSON.stringify(rec, null, 2), { mode: 0o600 });
    renameSync(`${f}.tmp`, f);
  }

  async delete(volumeId: string): Promise<void> {
    rmSync(this.file(volumeId), { force: true });
  }

  async all(): Promise<StagingRecord[]> {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const out: StagingRecord[] = [];
    for (const n of names.filter((x) => x.endsWith(".json"))) {
      try {
        out.push(JSON.parse(readFileSync(join(this.dir, n), "utf8")) as StagingRecord);
      } catch {
        // A torn file is skipped; the mount table still tells what exists.
      }
    }
    return out;
  }
}
