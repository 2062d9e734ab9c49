// The CRI log format: records, timestamps, partial lines joined per stream,
// malformed lines skipped and counted, bytes kept exactly; the tail offset.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CriLogDecoder, formatLine, formatTimestamp, parseCriRecord, parseTimestamp, type LogLine } from "../../src/logs/cri-format";
import { tailStart } from "../../src/logs/tail";

const rec = (ts: string, stream: string, tag: string, content: string | Buffer): Buffer =>
  Buffer.concat([Buffer.from(`${ts} ${stream} ${tag} `), Buffer.from(content), Buffer.from("\n")]);
const T = "2024-05-06T07:08:09.123456789Z";
const text = (lines: LogLine[]): string[] => lines.map((l) => `${l.stream}:${l.content.toString()}`);

test("a record: timestamp, stream, tag and content as written", () => {
  const r = parseCriRecord(Buffer.from(`${T} stderr F hello  world `));
  assert.ok(r);
  assert.equal(r.timestamp, T);
  assert.equal(r.stream, "stderr");
  assert.equal(r.partial, false);
  assert.equal(r.content.toString(), "hello  world ", "content keeps its spaces");
  assert.equal(parseCriRecord(Buffer.from(`${T} stdout P part`))?.partial, true);
  assert.equal(parseCriRecord(Buffer.from(`${T} stdout F:x:y more`))?.partial, false, "extra tags are ignored");
  assert.equal(parseCriRecord(Buffer.from(`${T} stdout F `))?.content.length, 0, "an empty line");
});

test("not a record: each malformed shape is refused", () => {
  for (const bad of ["", "no-spaces-at-all", `${T}`, `${T} stdout`, `${T} stdout F`, `${T} stdin F x`, `2024-05-06 07:08:09 stdout F x`, `yesterday stdout F x`, `${T} stdout  x`]) {
    assert.equal(parseCriRecord(Buffer.from(bad)), undefined, JSON.stringify(bad));
  }
});

test("timestamps: ns since the epoch from RFC3339Nano; the kubelet's nine-digit output form", () => {
  assert.equal(parseTimestamp("1970-01-01T00:00:01.5Z"), 1_500_000_000n);
  assert.equal(parseTimestamp("1970-01-01T01:00:00+01:00"), 0n);
  assert.equal(parseTimestamp("2024-13-45T00:00:00Z"), undefined);
  assert.equal(formatTimestamp("2024-05-06T07:08:09.5Z"), "2024-05-06T07:08:09.500000000Z");
  assert.equal(formatTimestamp("2024-05-06T07:08:09Z"), "2024-05-06T07:08:09.000000000Z");
  assert.equal(formatTimestamp("2024-05-06T07:08:09.1+00:00"), "2024-05-06T07:08:09.100000000Z");
  assert.equal(formatTimestamp("2024-05-06T07:08:09.1-05:00"), "2024-05-06T07:08:09.100000000-05:00");
});

test("partial lines are joined per stream, both streams kept, in order of their ends", () => {
  const d = new CriLogDecoder();
  const lines = d.push(
    Buffer.concat([
      rec(T, "stdout", "P", "abc"),
      rec(T, "stderr", "F", "err line"),
      rec(T, "stdout", "P", "def"),
      rec("2024-05-06T07:08:10Z", "stdout", "F", "ghi"),
      rec(T, "stderr", "F", ""),
    ]),
  );
  assert.deepEqual(text(lines), ["stderr:err line\n", "stdout:abcdefghi\n", "stderr:\n"]);
  assert.equal(lines[1]!.timestamp, T, "a joined line carries its first piece's time");
  assert.equal(d.malformed, 0);
});

test("chunk boundaries anywhere give the same lines; a half-written record waits for its end", () => {
  const data = Buffer.concat([rec(T, "stdout", "F", "one"), rec(T, "stdout", "P", "tw"), rec(T, "stdout", "F", "o"), rec(T, "stderr", "F", "three")]);
  const whole = text(new CriLogDecoder().push(data));
  const d = new CriLogDecoder();
  const bytewise: LogLine[] = [];
  for (let i = 0; i < data.length; i++) bytewise.push(...d.push(data.subarray(i, i + 1)));
  assert.deepEqual(text(bytewise), whole);
  assert.deepEqual(whole, ["stdout:one\n", "stdout:two\n", "stderr:three\n"]);
  const half = new CriLogDecoder();
  assert.deepEqual(half.push(data.subarray(0, 20)), []);
});

test("malformed lines are skipped and counted; the good ones around them still come out", () => {
  const d = new CriLogDecoder();
  const lines = d.push(Buffer.concat([rec(T, "stdout", "F", "a"), Buffer.from("garbage\n\x00\xff\n"), Buffer.from(`${T} stdin F nope\n`), Buffer.from("\n"), rec(T, "stdout", "F", "b")]));
  assert.deepEqual(text(lines), ["stdout:a\n", "stdout:b\n"]);
  assert.equal(d.malformed, 3, "two garbage lines and a bad stream; a blank line is no record");
});

test("content bytes are kept exactly (not decoded as text)", () => {
  const binary = Buffer.from([...Array(256).keys()].filter((b) => b !== 0x0a));
  const d = new CriLogDecoder();
  const [line] = d.push(rec(T, "stdout", "F", binary));
  assert.ok(line);
  assert.deepEqual(line.content, Buffer.concat([binary, Buffer.from("\n")]));
  assert.deepEqual(formatLine(line, true), Buffer.concat([Buffer.from("2024-05-06T07:08:09.123456789Z "), binary, Buffer.from("\n")]));
});

test("end(): an unterminated record and pending pieces come out as they are", () => {
  const d = new CriLogDecoder();
  assert.deepEqual(d.push(Buffer.concat([rec(T, "stderr", "P", "half"), Buffer.from(`${T} stdout F no newline yet`)])), []);
  assert.deepEqual(text(d.end()), ["stdout:no newline yet\n", "stderr:half"]);
});

test("tailStart: where the last N logical lines begin, across chunks, pieces counted with their line", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "logs-tail-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "0.log");
  const parts: Buffer[] = [];
  for (let i = 0; i < 3000; i++) {
    // Every 10th line is written in two pieces; the file spans many 64 KiB chunks.
    if (i % 10 === 0) parts.push(rec(T, "stdout", "P", `line ${i} `.padEnd(40, "x")), rec(T, "stdout", "F", "end"));
    else parts.push(rec(T, i % 2 ? "stderr" : "stdout", "F", `line ${i} `.padEnd(40, "y")));
  }
  const data = Buffer.concat([...parts, Buffer.from(`${T} stdout F cut`)]); // a write in progress at the end
  writeFileSync(file, data);
  const fh = await open(file, "r");
  try {
    const linesFrom = (off: number): string[] => text(new CriLogDecoder().push(data.subarray(off)));
    for (const n of [1, 3, 10, 11, 1500, 2999]) {
      const got = linesFrom(await tailStart(fh, data.length, n));
      assert.equal(got.length, n, `tail ${n}`);
      assert.match(got.at(-1)!, /^stderr:line 2999 /);
      assert.match(got[0]!, new RegExp(`line ${3000 - n} `), `tail ${n} starts at the right line`);
    }
    assert.equal(await tailStart(fh, data.length, 5000), 0, "more than the file holds: all of it");
    assert.equal(await tailStart(fh, data.length, 0), data.length);
  } finally {
    await fh.close();
  }
});
