// Format-if-empty decisions with a fake command runner: formatting happens
// only when blkid positively reports an empty device.
import { test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { CsiError } from "../../src/errors";
import { ExecError, type Runner } from "../../src/exec";
import { ensureFilesystem, probe } from "../../src/mount/format";

function fake(blkid: { stdout?: string; exit?: number }): { run: Runner; calls: string[][] } {
  const calls: string[][] = [];
  const run: Runner = async (cmd, args) => {
    calls.push([cmd, ...args]);
    if (cmd === "blkid" && blkid.exit !== undefined) throw new ExecError(cmd, args, blkid.exit, "");
    return { stdout: cmd === "blkid" ? blkid.stdout ?? "" : "", stderr: "" };
  };
  return { run, calls };
}

test("an empty device is formatted with the requested filesystem", async () => {
  const f = fake({ exit: 2 });
  assert.deepEqual(await ensureFilesystem("/dev/loop9", "xfs", f.run), { fsType: "xfs", formatted: true });
  assert.deepEqual(f.calls.map((c) => c[0]), ["blkid", "mkfs.xfs"]);
  assert.equal(f.calls[1]?.includes("-f"), false, "never forces mkfs.xfs");
});

test("a device holding a filesystem is never formatted", async () => {
  const f = fake({ stdout: "DEVNAME=/dev/loop9\nUUID=1234\nTYPE=ext4\nUSAGE=filesystem\n" });
  assert.deepEqual(await ensureFilesystem("/dev/loop9", "ext4", f.run), { fsType: "ext4", formatted: false });
  assert.deepEqual(await ensureFilesystem("/dev/loop9", "xfs", f.run), { fsType: "ext4", formatted: false });
  assert.ok(!f.calls.some((c) => c[0]?.startsWith("mkfs")));
});

test("a partition table or an ambiguous probe is data, not emptiness", async () => {
  const pt = fake({ stdout: "PTUUID=abcd\nPTTYPE=gpt\n" });
  await assert.rejects(ensureFilesystem("/dev/loop9", "ext4", pt.run), (e: unknown) => e instanceof CsiError && e.code === status.FAILED_PRECONDITION);
  const amb = fake({ exit: 8 });
  await assert.rejects(probe("/dev/loop9", amb.run));
  await assert.rejects(ensureFilesystem("/dev/loop9", "ext4", amb.run));
  assert.ok(![...pt.calls, ...amb.calls].some((c) => c[0]?.startsWith("mkfs")));
});
