// Superblock recognition used to skip blkid on re-stage: only a positive
// match short-circuits, so it can never cause a format.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { quickFsType } from "../../src/mount/format";

const dir = mkdtempSync(join(tmpdir(), "quickfs-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function image(name: string, fill: (b: Buffer) => void): string {
  const b = Buffer.alloc(4096);
  fill(b);
  const p = join(dir, name);
  writeFileSync(p, b);
  return p;
}

test("ext4 (magic + extents), xfs, and nothing", async () => {
  const ext4 = image("ext4", (b) => {
    b.writeUInt16LE(0xef53, 1024 + 56);
    b.writeUInt32LE(0x40 | 0x2, 1024 + 96);
  });
  const ext2 = image("ext2", (b) => b.writeUInt16LE(0xef53, 1024 + 56));
  const xfs = image("xfs", (b) => b.write("XFSB", 0, "latin1"));
  const zero = image("zero", () => undefined);
  assert.equal(await quickFsType(ext4), "ext4");
  assert.equal(await quickFsType(ext2), undefined, "not ext4: left to blkid");
  assert.equal(await quickFsType(xfs), "xfs");
  assert.equal(await quickFsType(zero), undefined);
});
