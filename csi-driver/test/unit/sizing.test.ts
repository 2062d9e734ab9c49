import { test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { VolumeCapability_AccessMode_Mode as Mode } from "@plasmacloud/proto/csi";
import { sizeFor } from "../../src/controller";
import { CsiError } from "../../src/errors";
import type { Capability } from "../../src/volumes/capability";

const MiB = 1n << 20n;
const GiB = 1n << 30n;
const ext4: Capability = { access: "mount", fsType: "ext4", mountFlags: [], mode: Mode.SINGLE_NODE_WRITER };
const xfs: Capability = { ...ext4, fsType: "xfs" };
const block: Capability = { ...ext4, access: "block" };
const r = (requiredBytes: bigint, limitBytes = 0n) => ({ requiredBytes, limitBytes });
const code = (fn: () => unknown): number => {
  try {
    fn();
  } catch (e) {
    if (e instanceof CsiError) return e.code;
  }
  return -1;
};

test("default size, MiB rounding, limits honoured", () => {
  assert.equal(sizeFor(undefined, [ext4], GiB), GiB);
  assert.equal(sizeFor(r(0n, 100n * MiB), [ext4], GiB), 100n * MiB);
  assert.equal(sizeFor(r(MiB + 1n), [ext4], GiB), 2n * MiB);
  assert.equal(sizeFor(r(5000n, 8192n), [block], GiB), 8192n, "falls back to page rounding to stay under the limit");
  assert.equal(sizeFor(r(10n * MiB, 10n * MiB), [ext4], GiB), 10n * MiB, "exact size");
});

test("filesystem minimums", () => {
  assert.equal(sizeFor(r(MiB), [xfs], GiB), 300n * MiB);
  assert.equal(sizeFor(r(1n), [ext4], GiB), MiB);
  assert.equal(code(() => sizeFor(r(MiB, 100n * MiB), [xfs], GiB)), status.OUT_OF_RANGE);
});

test("contradictory or negative ranges", () => {
  assert.equal(code(() => sizeFor(r(10n * MiB, 5n * MiB), [ext4], GiB)), status.OUT_OF_RANGE);
  assert.equal(code(() => sizeFor(r(-1n), [ext4], GiB)), status.INVALID_ARGUMENT);
  assert.equal(code(() => sizeFor(r(0n, -5n), [ext4], GiB)), status.INVALID_ARGUMENT);
  assert.equal(code(() => sizeFor(r(MiB + 1n, MiB + 2n), [ext4], GiB)), status.OUT_OF_RANGE, "no page-aligned size fits");
});
