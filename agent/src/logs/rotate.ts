// One container log's rotation, step for step the kubelet's container log
// manager (pkg/kubelet/logs/container_log_manager.go): once the live file
// reaches maxSize, leftovers of an interrupted rotation go, the oldest rotated
// files beyond maxFiles-2 go, the remaining rotated files are gzipped (the
// newest one stays plain until the next rotation: the runtime may still be
// writing to it and readers finishing it), the live file is renamed to
// <file>.<YYYYMMDD-hhmmss> and the runtime reopens a fresh one. If the reopen
// fails the rename is undone, so the next round tries again.
import { createReadStream, createWriteStream } from "node:fs";
import { readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { CodedError, errorMessage } from "@plasmacloud/common/errors";

export interface RotationPolicy {
  /** Rotate once the live file holds this many bytes (containerLogMaxSize). */
  maxSizeBytes: number;
  /** Files kept per container, the live one included (containerLogMaxFiles, >= 2). */
  maxFiles: number;
}

/** What rotation needs of the runtime: CRI ReopenContainerLog. */
export interface LogReopener {
  reopenContainerLog(containerId: string): Promise<void>;
}

const GZ = ".gz";
const TMP = ".tmp";

const pad = (n: number): string => String(n).padStart(2, "0");
/** Go's "20060102-150405" in local time, as the kubelet names rotated files. */
export function rotationStamp(d: Date): string {
  return `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}

/**
 * Checks one running container's live log and rotates it when due; true when
 * it rotated. A missing live file (lost by an earlier failed reopen) is
 * recovered by asking the runtime to reopen it, as the kubelet does.
 */
export async function rotateIfDue(containerId: string, path: string, policy: RotationPolicy, runtime: LogReopener, now: Date = new Date()): Promise<boolean> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    if (!isMissing(err)) throw err;
    await runtime.reopenContainerLog(containerId);
    size = (await stat(path)).size;
  }
  if (size < policy.maxSizeBytes) return false;
  return rotate(containerId, path, policy, runtime, now);
}

/** The rotated files of a live log: <file>.* in its directory, full paths, oldest first. */
export async function rotatedFiles(path: string): Promise<string[]> {
  const prefix = `${basename(path)}.`;
  const names = await readdir(dirname(path));
  return names.filter((n) => n.startsWith(prefix)).sort().map((n) => join(dirname(path), n));
}

async function rotate(containerId: string, path: string, policy: RotationPolicy, runtime: LogReopener, now: Date): Promise<boolean> {
  const rotated = `${path}.${rotationStamp(now)}`;
  let logs = await rotatedFiles(path);
  // Names have second resolution: a second rotation within the same second waits for the next round.
  if (logs.includes(rotated) || logs.includes(rotated + GZ)) return false;
  logs = await cleanupUnused(logs);
  logs = await removeExcess(logs, policy.maxFiles);
  for (const l of logs) if (!l.endsWith(GZ)) await compress(l);
  await rename(path, rotated);
  try {
    await runtime.reopenContainerLog(containerId);
  } catch (err) {
    // Back where it was: the runtime still writes to it, and the next round retries.
    await rename(rotated, path).catch(() => undefined);
    throw new CodedError("Unavailable", `reopening the log of container ${containerId} failed, rotation undone: ${errorMessage(err)}`, { containerId, path });
  }
  return true;
}

/** Leftovers of an interrupted rotation: temp files, and plain files whose .gz was already made. */
async function cleanupUnused(logs: string[]): Promise<string[]> {
  const set = new Set(logs);
  const inUse: string[] = [];
  for (const l of logs) {
    if (l.endsWith(TMP) || (!l.endsWith(GZ) && set.has(l + GZ))) await rm(l, { force: true });
    else inUse.push(l);
  }
  return inUse;
}

/** Keeps the newest maxFiles-2 rotated files: with the one about to be rotated and the new live file, maxFiles in all. */
async function removeExcess(logs: string[], maxFiles: number): Promise<string[]> {
  const keep = Math.max(0, maxFiles - 2);
  const excess = Math.max(0, logs.length - keep);
  // Oldest first, so a reader going through them in order is disturbed least.
  for (const l of logs.slice(0, excess)) await rm(l, { force: true });
  return logs.slice(excess);
}

/** <file> -> <file>.gz through <file>.tmp (the kubelet's names), so a crash never leaves a half-written .gz. */
async function compress(file: string): Promise<void> {
  const tmp = file + TMP;
  try {
    await pipeline(createReadStream(file), createGzip(), createWriteStream(tmp, { mode: 0o644 }));
    await rename(tmp, file + GZ);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await rm(file, { force: true });
}
