// Superblock recognition used to skip blkid on re-stage: only a positive
// match short-circuits, so it can never cause a format.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { quickFsType, readDevice, type DeviceReader } from "../../src/mount/format";

function image(fill: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(4096);
  fill(b);
  return b;
}

/** Serves reads from an in-memory image, as readDevice does from a device. */
const reader = (img: Buffer): DeviceReader => async (_device, offset, length) => img.subarray(offset, offset + length);

test("ext4 (magic + extents), xfs, and nothing", async () => {
  const ext4 = image((b) => {
    b.writeUInt16LE(0xef53, 1024 + 56);
    b.writeUInt32LE(0x40 | 0x2, 1024 + 96);
  });
  const ext2 = image((b) => b.writeUInt16LE(0xef53, 1024 + 56));
  const xfs = image((b) => b.write("XFSB", 0, "latin1"));
  const zero = image(() => undefined);
  assert.equal(await quickFsType("ext4", reader(ext4)), "ext4");
  assert.equal(await quickFsType("ext2", reader(ext2)), undefined, "not ext4: left to blkid");
  assert.equal(await quickFsType("xfs", reader(xfs)), "xfs");
  assert.equal(await quickFsType("zero", reader(zero)), undefined);
  assert.equal(await quickFsType("short", reader(Buffer.from("XF"))), undefined, "a short read is no match");
});

test("the production reader reads at an offset and stops at the end (a file in a temp dir stands in for the device)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "quickfs-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "img");
  writeFileSync(file, image((b) => b.write("XFSB", 0, "latin1")));
  assert.equal(await quickFsType(file), "xfs");
  assert.deepEqual(await readDevice(file, 4094, 8), Buffer.alloc(2));
});
