// The CRI container log format, as containerd writes it and the kubelet reads it
// (pkg/kubelet/kuberuntime/logs): one record per line,
//   <RFC3339Nano time> <stdout|stderr> <P|F>[:more tags] <content>\n
// P marks a piece of a longer line, joined with what follows on the same stream
// until an F. Content is bytes, never decoded: output stays byte-exact.

export type LogStream = "stdout" | "stderr";

/** One record of a CRI log file. */
export interface CriRecord {
  /** The timestamp as written (RFC3339Nano). */
  timestamp: string;
  /** ns since the epoch. */
  timeNs: bigint;
  stream: LogStream;
  partial: boolean;
  /** The record's content, without the line's '\n'. */
  content: Buffer;
}

/** One logical line: P pieces joined with their F; content ends with '\n' once complete. */
export interface LogLine {
  /** Timestamp of the line's first piece. */
  timestamp: string;
  timeNs: bigint;
  stream: LogStream;
  content: Buffer;
}

const SPACE = 0x20;
export const NL = 0x0a;
const EMPTY = Buffer.alloc(0);
const NEWLINE = Buffer.from("\n");
const TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** ns since the epoch of an RFC3339(Nano) timestamp; undefined when it is not one. */
export function parseTimestamp(ts: string): bigint | undefined {
  const m = TIME.exec(ts);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? "").padEnd(9, "0"));
}

/**
 * The kubelet's output form of a timestamp ("2006-01-02T15:04:05.000000000Z07:00"):
 * always nine fraction digits, the zone as written (a zero offset as Z).
 */
export function formatTimestamp(ts: string): string {
  const m = TIME.exec(ts);
  if (!m) return ts;
  const zone = m[3] === "+00:00" || m[3] === "-00:00" ? "Z" : m[3];
  return `${m[1]}.${(m[2] ?? "").padEnd(9, "0")}${zone}`;
}

/** Parses one line (without its '\n'); undefined when it is not a CRI record. */
export function parseCriRecord(line: Buffer): CriRecord | undefined {
  const a = line.indexOf(SPACE);
  if (a < 0) return undefined;
  const timestamp = line.toString("latin1", 0, a);
  const timeNs = parseTimestamp(timestamp);
  if (timeNs === undefined) return undefined;
  const b = line.indexOf(SPACE, a + 1);
  if (b < 0) return undefined;
  const stream = line.toString("latin1", a + 1, b);
  if (stream !== "stdout" && stream !== "stderr") return undefined;
  const c = line.indexOf(SPACE, b + 1);
  if (c < 0) return undefined;
  // Tags are ':'-separated; only the first means anything yet (forward compatible, as the kubelet).
  const tag = line.toString("latin1", b + 1, c).split(":")[0];
  if (!tag) return undefined;
  return { timestamp, timeNs, stream, partial: tag === "P", content: line.subarray(c + 1) };
}

/** The bytes a reader shows for a line: content, prefixed by its timestamp when asked. */
export function formatLine(l: LogLine, timestamps: boolean): Buffer {
  return timestamps ? Buffer.concat([Buffer.from(`${formatTimestamp(l.timestamp)} `, "latin1"), l.content]) : l.content;
}

interface Pending {
  first: Omit<LogLine, "content">;
  parts: Buffer[];
}

/**
 * Turns file bytes, chunk by chunk, into logical lines. Keeps an unfinished
 * line (a write seen half-way) until its '\n' arrives, and P pieces per stream
 * until their F. Lines that are not CRI records are skipped and counted.
 */
export class CriLogDecoder {
  /** Lines skipped because they were not CRI records. */
  malformed = 0;
  private rest: Buffer = EMPTY;
  private readonly pending = new Map<LogStream, Pending>();

  push(chunk: Buffer): LogLine[] {
    const out: LogLine[] = [];
    let buf = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(NL); nl >= 0; nl = buf.indexOf(NL, start)) {
      this.record(buf.subarray(start, nl), out);
      start = nl + 1;
    }
    // Copy the remainder: the chunk's buffer may be reused by the reader.
    buf = buf.subarray(start);
    this.rest = buf.length ? Buffer.from(buf) : EMPTY;
    return out;
  }

  /** The file ends here (rotated away): an unterminated last line is taken as it is; P pieces wait on. */
  endOfFile(): LogLine[] {
    const out: LogLine[] = [];
    if (this.rest.length) this.record(this.rest, out);
    this.rest = EMPTY;
    return out;
  }

  /** Nothing more will come: everything held back, P pieces included, as lines. */
  end(): LogLine[] {
    const out = this.endOfFile();
    for (const p of this.pending.values()) out.push(joined(p, EMPTY));
    this.pending.clear();
    return out;
  }

  private record(line: Buffer, out: LogLine[]): void {
    if (line.length === 0) return; // a blank line is no record (and no error)
    const r = parseCriRecord(line);
    if (!r) {
      this.malformed++;
      return;
    }
    const p = this.pending.get(r.stream);
    if (r.partial) {
      if (p) p.parts.push(Buffer.from(r.content));
      else this.pending.set(r.stream, { first: { timestamp: r.timestamp, timeNs: r.timeNs, stream: r.stream }, parts: [Buffer.from(r.content)] });
      return;
    }
    if (p) {
      this.pending.delete(r.stream);
      out.push(joined(p, Buffer.concat([r.content, NEWLINE])));
    } else {
      out.push({ timestamp: r.timestamp, timeNs: r.timeNs, stream: r.stream, content: Buffer.concat([r.content, NEWLINE]) });
    }
  }
}

function joined(p: Pending, last: Buffer): LogLine {
  return { timestamp: p.first.timestamp, timeNs: p.first.timeNs, stream: p.first.stream, content: Buffer.concat([...p.parts, last]) };
}

/** True when the line (without '\n') is a record that ends a logical line (used to count lines backwards). */
export function endsLine(line: Buffer): boolean {
  const r = parseCriRecord(line);
  return r !== undefined && !r.partial;
}
