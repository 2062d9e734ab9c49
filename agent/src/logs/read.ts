// Reads one container's CRI log file on this node: the whole file or its last N
// lines, lines older than `since` left out, and with follow the lines written
// after, across rotation (the renamed file is read to its end, then the new one
// from its start). Used by `k8shost-agent logs` and meant for the node API: no
// process is spawned, and a follow ends when the caller aborts or returns, or
// when the file has gone quiet and the container is no longer running.
import { watch, type FSWatcher } from "node:fs";
import { open, stat, type FileHandle } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { CodedError, errorMessage } from "@plasmacloud/common/errors";
import { CriLogDecoder, formatLine, type LogLine } from "./cri-format";
import { tailStart } from "./tail";

export interface LogReadOptions {
  /** Only the last N lines (undefined or negative: all). */
  tail?: number;
  /** Leave out lines stamped before this (ns since the epoch). */
  sinceNs?: bigint;
  /** Prefix each line with its RFC3339Nano timestamp (readLogBytes). */
  timestamps?: boolean;
  follow?: boolean;
  /** Ends a follow (and a read) early; the iterator then returns. */
  signal?: AbortSignal;
  /** Follow only: asked when the file has been quiet for stateCheckMs; false ends the follow. Absent: follow until aborted. */
  stillRunning?: () => Promise<boolean>;
  /** How long the file must be quiet before stillRunning is asked (the kubelet's stateCheckPeriod: 5 s). */
  stateCheckMs?: number;
  /** Follow only: the longest wait between looks at the file when no change is signalled. */
  pollMs?: number;
  /** Told how many lines were skipped as not CRI records, once the read ends. */
  onMalformed?: (count: number) => void;
}

const CHUNK = 64 * 1024;
/** After the path names a new file, how long the old one is still read (the runtime switches right after creating it). */
const SWITCH_GRACE_MS = 100;

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}

async function openLog(path: string): Promise<FileHandle> {
  try {
    return await open(path, "r");
  } catch (err) {
    if (isMissing(err)) throw new CodedError("NotFound", `log file ${path} not found`, { path });
    throw new CodedError("Internal", `cannot open log file ${path}: ${errorMessage(err)}`, { path });
  }
}

/** The logical lines of a container's log file (see LogReadOptions). */
export async function* readLogLines(path: string, o: LogReadOptions = {}): AsyncGenerator<LogLine, void, undefined> {
  for await (const batch of readBatches(path, o)) yield* batch;
}

/** The log as the bytes a reader shows, in chunks (one per read of the file). */
export async function* readLogBytes(path: string, o: LogReadOptions = {}): AsyncGenerator<Buffer, void, undefined> {
  const ts = o.timestamps ?? false;
  for await (const batch of readBatches(path, o)) if (batch.length) yield Buffer.concat(batch.map((l) => formatLine(l, ts)));
}

async function* readBatches(path: string, o: LogReadOptions): AsyncGenerator<LogLine[], void, undefined> {
  const since = o.sinceNs;
  const keep = (lines: LogLine[]): LogLine[] => (since === undefined ? lines : lines.filter((l) => l.timeNs >= since));
  const dec = new CriLogDecoder();
  let fh = await openLog(path);
  let waker: Waker | undefined;
  try {
    const first = await fh.stat();
    let ino = first.ino;
    let pos = o.tail !== undefined && o.tail >= 0 ? await tailStart(fh, first.size, o.tail) : 0;
    const buf = Buffer.alloc(CHUNK);
    // Without follow the log is read as it stood when asked: lines the
    // container writes meanwhile would make a --tail N answer N+1 lines.
    let end = o.follow ? Infinity : first.size;
    /** Reads what the open file holds past pos (up to `end`); the lines it completes. */
    const readMore = async (): Promise<LogLine[] | undefined> => {
      const want = Math.min(CHUNK, end - pos);
      if (want <= 0) return undefined;
      const { bytesRead } = await fh.read(buf, 0, want, pos);
      if (bytesRead === 0) return undefined;
      pos += bytesRead;
      return dec.push(buf.subarray(0, bytesRead));
    };
    for (let got = await readMore(); got; got = await readMore()) {
      if (o.signal?.aborted) return;
      yield keep(got);
    }
    if (!o.follow) return void (yield keep(dec.end()));

    waker = new Waker(path, o.pollMs ?? 1000);
    const stateCheckMs = o.stateCheckMs ?? 5000;
    let lastDataAt = Date.now();
    let lastCheckAt = Date.now();
    let renamedAt = 0; // when the path was first seen naming another file
    while (!o.signal?.aborted) {
      const got = await readMore();
      if (got) {
        lastDataAt = Date.now();
        yield keep(got);
        continue;
      }
      const now = Date.now();
      const current = await stat(path).catch((err: unknown) => (isMissing(err) ? undefined : Promise.reject(err)));
      if (current && current.ino !== ino) {
        if (!renamedAt) renamedAt = now;
        else if (now - renamedAt >= SWITCH_GRACE_MS) {
          // Rotated: the old file is read to its end; the new one from its start.
          yield keep(dec.endOfFile());
          const next = await openLog(path);
          await fh.close();
          fh = next;
          ino = (await fh.stat()).ino;
          pos = 0;
          renamedAt = 0;
          continue;
        }
      }
      if (o.stillRunning && now - lastDataAt >= stateCheckMs && now - lastCheckAt >= stateCheckMs) {
        lastCheckAt = now;
        if (!(await o.stillRunning())) {
          // Exited: what it wrote last is read, then the follow ends.
          end = Infinity;
          for (let more = await readMore(); more; more = await readMore()) yield keep(more);
          return void (yield keep(dec.end()));
        }
      }
      await waker.wait(renamedAt ? SWITCH_GRACE_MS : Math.min(o.pollMs ?? 1000, stateCheckMs), o.signal);
    }
  } finally {
    waker?.close();
    await fh.close();
    if (dec.malformed) o.onMalformed?.(dec.malformed);
  }
}

/**
 * Wakes a follower when anything in the log's directory changes (inotify: the
 * runtime's writes, the rotation's rename and the new file), or after a timeout.
 */
class Waker {
  private watcher: FSWatcher | undefined;
  private changed = false;
  private wake: (() => void) | undefined;

  constructor(path: string, private readonly pollMs: number) {
    const name = basename(path);
    try {
      this.watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
        if (file && !file.toString().startsWith(name)) return;
        this.changed = true;
        this.wake?.();
      });
      // The directory gone (pod removed) or no inotify watches left: the timeout still wakes.
      this.watcher.on("error", () => this.close());
    } catch {
      this.watcher = undefined;
    }
  }

  /** Resolves at the next change, after timeoutMs, or when the signal aborts. */
  async wait(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.changed || signal?.aborted) {
      this.changed = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.watcher ? timeoutMs : Math.min(timeoutMs, this.pollMs / 4));
      signal?.addEventListener("abort", done, { once: true });
      this.wake = done;
    });
    this.changed = false;
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
