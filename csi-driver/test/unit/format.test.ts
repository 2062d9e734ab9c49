// Format-if-empty decisions with a fake command runner and a fake device
// reader: formatting happens only when blkid positively reports an empty
// device. No host device is opened: DEV is only a name.
import { test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { ExecError, type Runner } from "@plasmacloud/common/exec";
import { CsiError } from "../../src/errors";
import { ensureFilesystem, probe, type DeviceReader } from "../../src/mount/format";

const DEV = "/nonexistent/volume-device"; // a name only: were it ever opened, the test would fail

function fake(blkid: { stdout?: string; exit?: number }): { run: Runner; calls: string[][] } {
  const calls: string[][] = [];
  const run: Runner = async (cmd, args) => {
    calls.push([cmd, ...args]);
    if (cmd === "blkid" && blkid.exit !== undefined) throw new ExecError(cmd, args, blkid.exit, "", "", "exit");
    return { stdout: cmd === "blkid" ? blkid.stdout ?? "" : "", stderr: "" };
  };
  return { run, calls };
}

/** A device whose first bytes are zeros: no superblock the quick check knows. */
const blank: DeviceReader = async (_device, _offset, length) => Buffer.alloc(length);

test("an empty device is formatted with the requested filesystem", async () => {
  const f = fake({ exit: 2 });
  assert.deepEqual(await ensureFilesystem(DEV, "xfs", f.run, blank), { fsType: "xfs", formatted: true });
  assert.deepEqual(f.calls.map((c) => c[0]), ["blkid", "mkfs.xfs"]);
  assert.equal(f.calls[1]?.includes("-f"), false, "never forces mkfs.xfs");
});

test("a device holding a filesystem is never formatted", async () => {
  const f = fake({ stdout: `DEVNAME=${DEV}\nUUID=1234\nTYPE=ext4\nUSAGE=filesystem\n` });
  assert.deepEqual(await ensureFilesystem(DEV, "ext4", f.run, blank), { fsType: "ext4", formatted: false });
  assert.deepEqual(await ensureFilesystem(DEV, "xfs", f.run, blank), { fsType: "ext4", formatted: false });
  assert.ok(!f.calls.some((c) => c[0]?.startsWith("mkfs")));
});

test("a superblock the quick check recognises skips blkid", async () => {
  const f = fake({ exit: 2 });
  const xfs: DeviceReader = async (device, offset, length) => {
    assert.deepEqual([device, offset], [DEV, 0]);
    const b = Buffer.alloc(length);
    b.write("XFSB", 0, "latin1");
    return b;
  };
  assert.deepEqual(await ensureFilesystem(DEV, "ext4", f.run, xfs), { fsType: "xfs", formatted: false });
  assert.deepEqual(f.calls, []);
});

test("a partition table or an ambiguous probe is data, not emptiness", async () => {
  const pt = fake({ stdout: "PTUUID=abcd\nPTTYPE=gpt\n" });
  await assert.rejects(ensureFilesystem(DEV, "ext4", pt.run, blank), (e: unknown) => e instanceof CsiError && e.code === status.FAILED_PRECONDITION);
  const amb = fake({ exit: 8 });
  await assert.rejects(probe(DEV, amb.run));
  await assert.rejects(ensureFilesystem(DEV, "ext4", amb.run, blank));
  assert.ok(![...pt.calls, ...amb.calls].some((c) => c[0]?.startsWith("mkfs")));
});
