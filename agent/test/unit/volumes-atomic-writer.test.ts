// The atomic writer's on-disk protocol: ..data -> timestamped dir, key
// symlinks through ..data, no-op when unchanged, stale names removed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkPayloadPath, writeAtomic, type FileProjection } from "../../src/volumes/atomic-writer";
import { ownedMode } from "../../src/volumes/ownership";

const f = (s: string, mode = 0o644): FileProjection => ({ data: Buffer.from(s), mode });

test("writes a payload through ..data and swaps it atomically on change", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "aw-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(await writeAtomic(dir, new Map([["a", f("1")], ["sub/b", f("2", 0o600)]])), true);
  const ts1 = readlinkSync(join(dir, "..data"));
  assert.match(ts1, /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\./);
  assert.equal(readlinkSync(join(dir, "a")), "..data/a");
  assert.equal(readlinkSync(join(dir, "sub")), "..data/sub");
  assert.equal(readFileSync(join(dir, "sub", "b"), "utf8"), "2");
  assert.equal(statSync(join(dir, "sub", "b")).mode & 0o777, 0o600);

  assert.equal(await writeAtomic(dir, new Map([["a", f("1")], ["sub/b", f("2", 0o600)]])), false, "unchanged payload is a no-op");
  assert.equal(readlinkSync(join(dir, "..data")), ts1);

  assert.equal(await writeAtomic(dir, new Map([["a", f("1b")], ["c", f("3")]])), true);
  const ts2 = readlinkSync(join(dir, "..data"));
  assert.notEqual(ts2, ts1);
  assert.deepEqual(readdirSync(dir).sort(), ["..data", ts2, "a", "c"].sort(), "old dir and the stale 'sub' link are gone");
  assert.equal(readFileSync(join(dir, "a"), "utf8"), "1b");
  assert.ok(lstatSync(join(dir, "..data")).isSymbolicLink());
});

test("a mode change alone is a change", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "aw-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await writeAtomic(dir, new Map([["a", f("1", 0o644)]]));
  assert.equal(await writeAtomic(dir, new Map([["a", f("1", 0o400)]])), true);
  assert.equal(statSync(join(dir, "a")).mode & 0o777, 0o400);
});

test("payload paths are checked like the kubelet's", async (t) => {
  for (const bad of ["", "/abs", "../x", "a/../b", "..hidden", "a//b", "a/./b"]) assert.ok(checkPayloadPath(bad), bad);
  for (const ok of ["a", "a/b", "a.b", "x..y"]) assert.equal(checkPayloadPath(ok), undefined, ok);
  const dir = mkdtempSync(join(tmpdir(), "aw-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await assert.rejects(writeAtomic(dir, new Map([["../escape", f("x")]])), /must not contain/);
});

test("with fsGroup every file and directory is group-owned and group-readable, dirs setgid; the timestamped dir is 0755 even without", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "aw-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await writeAtomic(dir, new Map([["a", f("1", 0o400)]]));
  assert.equal(statSync(join(dir, readlinkSync(join(dir, "..data")))).mode & 0o7777, 0o755, "walkable by a non-root user");
  // The test's own group: chown to it needs no privilege.
  const gid = process.getgid!();
  assert.equal(await writeAtomic(dir, new Map([["a", f("1", 0o400)], ["sub/b", f("2", 0o600)]]), gid), true);
  assert.equal(statSync(join(dir, "a")).mode & 0o7777, 0o440, "0400 | the kubelet's read-only mask 0440");
  assert.equal(statSync(join(dir, "sub", "b")).mode & 0o7777, 0o640);
  assert.equal(statSync(join(dir, "sub", "b")).gid, gid);
  assert.equal(statSync(join(dir, "sub")).mode & 0o7777, 0o2755, "directories: setgid, group r-x");
  assert.equal(statSync(dir).mode & 0o2000, 0o2000, "the volume's root too");
  assert.equal(await writeAtomic(dir, new Map([["a", f("1", 0o400)], ["sub/b", f("2", 0o600)]]), gid), false, "owned contents are not rewritten on every sync");
});

test("ownedMode is the kubelet's SetVolumeOwnership mask", () => {
  assert.equal(ownedMode(0o644, false, true), 0o644);
  assert.equal(ownedMode(0o400, false, true), 0o440);
  assert.equal(ownedMode(0o600, false, false), 0o660);
  assert.equal(ownedMode(0o777, true, false), 0o2777);
  assert.equal(ownedMode(0o700, true, true), 0o2750);
});
