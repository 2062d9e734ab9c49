import { test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { VolumeCapability_AccessMode_Mode as Mode } from "@plasmacloud/proto/csi";
import { CsiError } from "../../src/errors";
import { isReadOnlyMode, parseCapability, unsupportedReason } from "../../src/volumes/capability";

const mount = (fsType: string, mode = Mode.SINGLE_NODE_WRITER, mountFlags: string[] = []) => ({
  mount: { fsType, mountFlags, volumeMountGroup: "" },
  accessMode: { mode },
});

function invalid(fn: () => unknown, field: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof CsiError && e.code === status.INVALID_ARGUMENT && field.test(String(e.context.field)));
}

test("mount capability: ext4 by default, xfs accepted, flags kept", () => {
  assert.deepEqual(parseCapability(mount(""), "c"), { access: "mount", fsType: "ext4", mountFlags: [], mode: Mode.SINGLE_NODE_WRITER });
  assert.equal(parseCapability(mount("xfs", Mode.SINGLE_NODE_READER_ONLY, ["noatime"]), "c").fsType, "xfs");
  assert.deepEqual(parseCapability(mount("ext4", Mode.SINGLE_NODE_WRITER, ["noatime", "discard"]), "c").mountFlags, ["noatime", "discard"]);
});

test("block capability", () => {
  assert.equal(parseCapability({ block: {}, accessMode: { mode: Mode.SINGLE_NODE_SINGLE_WRITER } }, "c").access, "block");
});

test("invalid capabilities name the field", () => {
  invalid(() => parseCapability(undefined, "volume_capability"), /^volume_capability$/);
  invalid(() => parseCapability({ mount: mount("").mount, accessMode: undefined }, "c"), /access_mode/);
  invalid(() => parseCapability({ accessMode: { mode: Mode.SINGLE_NODE_WRITER } }, "c"), /access_type/);
  invalid(() => parseCapability({ block: {}, mount: mount("").mount, accessMode: { mode: Mode.SINGLE_NODE_WRITER } }, "c"), /access_type/);
  invalid(() => parseCapability(mount("btrfs"), "c"), /fs_type/);
  invalid(() => parseCapability(mount("ext4", Mode.MULTI_NODE_MULTI_WRITER), "c"), /access_mode/);
  invalid(() => parseCapability(mount("ext4", Mode.SINGLE_NODE_WRITER, ["bind"]), "c"), /mount_flags/);
  assert.match(unsupportedReason(mount("ext4", Mode.MULTI_NODE_READER_ONLY)) ?? "", /not supported/);
  assert.equal(unsupportedReason(mount("xfs")), undefined);
});

test("read-only modes", () => {
  assert.equal(isReadOnlyMode(Mode.SINGLE_NODE_READER_ONLY), true);
  assert.equal(isReadOnlyMode(Mode.MULTI_NODE_READER_ONLY), true);
  assert.equal(isReadOnlyMode(Mode.SINGLE_NODE_WRITER), false);
});
