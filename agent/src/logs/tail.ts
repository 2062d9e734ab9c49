// Where the last N lines of a CRI log file start, read backwards in chunks so a
// large file costs what the tail needs, not the whole file (the kubelet seeks
// the same way). Lines are logical: P pieces count with the F that ends them.
import type { FileHandle } from "node:fs/promises";
import { endsLine, NL } from "./cri-format";

const CHUNK = 64 * 1024;

async function readAt(fh: FileHandle, pos: number, len: number): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(buf, got, len - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/** Offset of the first byte of the last `n` complete lines of the first `size` bytes (0 when fewer). */
export async function tailStart(fh: FileHandle, size: number, n: number): Promise<number> {
  if (n <= 0) return size;
  let pos = size;
  let carry = Buffer.alloc(0); // the (possibly cut) first line of the region already read
  let count = 0;
  let seenNewline = false;
  while (pos > 0) {
    const len = Math.min(CHUNK, pos);
    pos -= len;
    const buf = Buffer.concat([await readAt(fh, pos, len), carry]);
    // `end` is one past the '\n' of the line being looked at, relative to pos.
    let end = buf.length;
    if (!seenNewline) {
      // Bytes after the file's last '\n' are a write in progress: not a line yet.
      const last = buf.lastIndexOf(NL);
      if (last < 0) {
        carry = buf;
        continue;
      }
      seenNewline = true;
      end = last + 1;
    }
    for (;;) {
      const prev = end >= 2 ? buf.lastIndexOf(NL, end - 2) : -1;
      if (prev < 0) break;
      if (endsLine(buf.subarray(prev + 1, end - 1)) && ++count > n) return pos + end;
      end = prev + 1;
    }
    carry = buf.subarray(0, end);
  }
  // The file's first line.
  if (seenNewline && carry.length > 0 && endsLine(carry.subarray(0, carry.length - 1)) && ++count > n) return carry.length;
  return 0;
}
