// Reading a container's log file as `logs` and the node API do: whole, tail,
// since, timestamps, and follow across a rotation until the container is gone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readLogBytes, readLogLines } from "../../src/logs/read";

const rec = (ts: string, stream: string, tag: string, content: string): string => `${ts} ${stream} ${tag} ${content}\n`;
const at = (ms: number): string => new Date(ms).toISOString().replace("Z", "000Z");

function tempLog(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "logs-read-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "c"));
  return join(dir, "c", "0.log");
}

async function collect(it: AsyncIterable<Buffer>): Promise<string> {
  const out: Buffer[] = [];
  for await (const b of it) out.push(b);
  return Buffer.concat(out).toString();
}

async function waitFor(what: string, fn: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("whole file, --tail, --since and --timestamps, stdout and stderr together", async (t) => {
  const path = tempLog(t);
  const now = Date.now();
  writeFileSync(path, rec(at(now - 60_000), "stdout", "F", "old") + rec(at(now - 1000), "stderr", "F", "recent") + rec(at(now), "stdout", "P", "new ") + rec(at(now), "stdout", "F", "one"));
  assert.equal(await collect(readLogBytes(path)), "old\nrecent\nnew one\n");
  assert.equal(await collect(readLogBytes(path, { tail: 2 })), "recent\nnew one\n");
  assert.equal(await collect(readLogBytes(path, { tail: 0 })), "");
  assert.equal(await collect(readLogBytes(path, { sinceNs: BigInt(now - 10_000) * 1_000_000n })), "recent\nnew one\n");
  const stamped = await collect(readLogBytes(path, { tail: 1, timestamps: true }));
  assert.equal(stamped, `${new Date(now).toISOString().replace(/Z$/, "000000Z")} new one\n`, "nine fraction digits, as the kubelet prints them");
});

test("a missing file is NotFound; malformed lines are reported once the read ends", async (t) => {
  const path = tempLog(t);
  await assert.rejects(collect(readLogBytes(path)), (err: Error & { code?: string }) => err.code === "NotFound" && err.message.includes(path));
  writeFileSync(path, `junk\n${rec(at(Date.now()), "stdout", "F", "ok")}also junk\n`);
  let malformed = -1;
  assert.equal(await collect(readLogBytes(path, { onMalformed: (n) => (malformed = n) })), "ok\n");
  assert.equal(malformed, 2);
});

test("follow: new lines as they are written, across a rotation, ending once the container has stopped", async (t) => {
  const path = tempLog(t);
  writeFileSync(path, rec(at(Date.now()), "stdout", "F", "first"));
  let running = true;
  const seen: string[] = [];
  const done = (async () => {
    for await (const l of readLogLines(path, { follow: true, stillRunning: async () => running, stateCheckMs: 200, pollMs: 100 })) seen.push(l.content.toString());
  })();
  await waitFor("the first line", () => seen.length === 1);
  appendFileSync(path, rec(at(Date.now()), "stdout", "F", "second"));
  await waitFor("the appended line", () => seen.length === 2);
  // Rotation as the kubelet and containerd do it: rename, then a new file at the path;
  // a last write to the old file lands before the runtime switches.
  renameSync(path, `${path}.20240101-000000`);
  appendFileSync(`${path}.20240101-000000`, rec(at(Date.now()), "stdout", "F", "third (old file)"));
  writeFileSync(path, rec(at(Date.now()), "stderr", "F", "fourth (new file)"));
  await waitFor("the new file's line", () => seen.length === 4);
  appendFileSync(path, rec(at(Date.now()), "stdout", "F", "fifth"));
  await waitFor("the fifth line", () => seen.length === 5);
  running = false;
  await done; // ends by itself once the file is quiet and the container is not running
  assert.deepEqual(seen, ["first\n", "second\n", "third (old file)\n", "fourth (new file)\n", "fifth\n"]);
});

test("follow ends when the caller aborts or stops iterating; tail then follow", async (t) => {
  const path = tempLog(t);
  writeFileSync(path, ["a", "b", "c"].map((s) => rec(at(Date.now()), "stdout", "F", s)).join(""));
  const halt = new AbortController();
  const seen: string[] = [];
  const done = (async () => {
    for await (const b of readLogBytes(path, { follow: true, tail: 1, signal: halt.signal })) seen.push(b.toString());
  })();
  await waitFor("the tail", () => seen.join("") === "c\n");
  appendFileSync(path, rec(at(Date.now()), "stdout", "F", "d"));
  await waitFor("the appended line", () => seen.join("") === "c\nd\n");
  halt.abort();
  await done;
  // break out of the loop: the generator's cleanup closes the file and the watcher.
  for await (const l of readLogLines(path, { follow: true })) {
    assert.equal(l.content.toString(), "a\n");
    break;
  }
});

test("without follow the log is read as it stood when asked: a line written meanwhile is not in a --tail answer", async (t) => {
  const path = tempLog(t);
  writeFileSync(path, [0, 1, 2, 3, 4].map((i) => rec(at(1000 + i), "stdout", "F", `line-${i}`)).join(""));
  const it = readLogBytes(path, { tail: 2 })[Symbol.asyncIterator]();
  const got: Buffer[] = [];
  const first = await it.next();
  if (!first.done) got.push(first.value);
  appendFileSync(path, rec(at(2000), "stdout", "F", "line-5")); // the container goes on writing
  for (let r = await it.next(); !r.done; r = await it.next()) got.push(r.value);
  assert.equal(Buffer.concat(got).toString(), "line-3\nline-4\n");
});
