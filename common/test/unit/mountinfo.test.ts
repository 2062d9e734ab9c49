import { test } from "node:test";
import assert from "node:assert/strict";
import { isReadOnly, mountAt, mountsUnder, parseMountInfo } from "../../src/mountinfo";

const SAMPLE = [
  "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard",
  "24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=123k",
  // optional fields (shared:/master:) before the separator, escaped space in the mount point
  "101 27 7:3 / /tmp/a\\040b/staging rw,relatime shared:12 master:3 - ext4 /dev/vdz rw",
  "102 27 7:3 / /tmp/a\\040b/target ro,relatime shared:12 - ext4 /dev/vdz rw",
  "103 27 0:6 /loop4 /tmp/blk/dev rw,nosuid - devtmpfs devtmpfs rw",
  "104 27 0:50 / /tmp/a\\040b/target rw - tmpfs tmpfs rw",
  "garbage line",
  "",
].join("\n");

test("parses fields, optional fields and octal escapes", () => {
  const e = parseMountInfo(SAMPLE);
  assert.equal(e.length, 6);
  const staging = e[2];
  assert.equal(staging?.mountPoint, "/tmp/a b/staging");
  assert.equal(staging?.fsType, "ext4");
  assert.equal(staging?.source, "/dev/vdz");
  assert.equal(staging?.majorMinor, "7:3");
  assert.deepEqual(staging?.options, ["rw", "relatime"]);
  assert.equal(e[4]?.root, "/loop4");
});

test("mountAt returns the top-most mount stacked at a path", () => {
  const e = parseMountInfo(SAMPLE);
  assert.equal(mountAt(e, "/tmp/a b/target")?.fsType, "tmpfs");
  assert.equal(mountAt(e, "/tmp/nothing"), undefined);
  assert.equal(isReadOnly(e[3]!), true);
  assert.equal(isReadOnly(e[2]!), false);
});

test("mountsUnder lists a directory's mounts deepest first, not a sibling with the same prefix", () => {
  const e = parseMountInfo(SAMPLE);
  assert.deepEqual(mountsUnder(e, "/tmp/a b").map((m) => m.mountPoint), ["/tmp/a b/staging", "/tmp/a b/target", "/tmp/a b/target"]);
  assert.deepEqual(mountsUnder(e, "/tmp/a"), []);
});
