// Stage/publish/unpublish/unstage on real loop devices and filesystems,
// checked from outside the driver (mountinfo, losetup, findmnt, files).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { startEnv, type TestEnv } from "../helpers/env";
import { findmntTarget, loopsUnder, mountsUnder } from "../helpers/host";
import { Mode, mountCap } from "../helpers/csi-client";

const MiB = 1n << 20n;

async function newVolume(env: TestEnv, name: string, size = 64n * MiB): Promise<string> {
  const r = await env.csi.createVolume({ name, capacityRange: { requiredBytes: size, limitBytes: 0n }, volumeCapabilities: [mountCap()] });
  assert.ok(r.volume);
  return r.volume.volumeId;
}

function fsUuid(file: string): string {
  return execFileSync("blkid", ["-p", "-s", "UUID", "-o", "value", file], { encoding: "utf8" }).trim();
}

describe("node lifecycle (ext4)", () => {
  let env: TestEnv;
  before(async () => {
    env = await startEnv({ name: "lifecycle" });
  });
  after(async () => {
    await env?.close();
  });

  test("data written through a publish survives unpublish+unstage and a restage; the volume is not reformatted", async () => {
    const id = await newVolume(env, "data-survives");
    const staging = env.path("staging", "data-survives");
    const target = env.path("pods", "p1", "mount");
    const cap = mountCap("ext4");
    await env.csi.stage({ volumeId: id, stagingTargetPath: staging, volumeCapability: cap });
    const file = env.standIn.filePath(id);
    const loops = loopsUnder(env.dir);
    assert.equal(loops.length, 1, "one loop device over the volume file");
    assert.equal(loops[0]?.backFile, file);
    const stagedMount = mountsUnder(env.dir).find((m) => m.mountPoint === staging);
    assert.equal(stagedMount?.fsType, "ext4");
    assert.equal(stagedMount?.source, loops[0]?.name);
    const uuid = fsUuid(file);
    assert.match(uuid, /^[0-9a-f-]{36}$/);

    await env.csi.publish({ volumeId: id, stagingTargetPath: staging, targetPath: target, volumeCapability: cap });
    assert.equal(findmntTarget(target)?.source, loops[0]?.name);
    writeFileSync(`${target}/hello.txt`, "kept across restage\n");

    await env.csi.unpublish({ volumeId: id, targetPath: target });
    await env.csi.unstage({ volumeId: id, stagingTargetPath: staging });
    assert.deepEqual(mountsUnder(env.dir), []);
    assert.deepEqual(loopsUnder(env.dir), []);

    await env.csi.stage({ volumeId: id, stagingTargetPath: staging, volumeCapability: cap });
    await env.csi.publish({ volumeId: id, stagingTargetPath: staging, targetPath: target, volumeCapability: cap });
    assert.equal(readFileSync(`${target}/hello.txt`, "utf8"), "kept across restage\n");
    assert.equal(fsUuid(file), uuid, "same filesystem: never reformatted");

    await env.csi.unpublish({ volumeId: id, targetPath: target });
    await env.csi.unstage({ volumeId: id, stagingTargetPath: staging });
  });

  test("after unstage no mount, loop device, directory or record made by the driver is left", async () => {
    const id = await newVolume(env, "leaves-nothing");
    const staging = env.path("staging", "leaves-nothing", "globalmount");
    const targets = [env.path("pods", "a", "vol"), env.path("pods", "b", "vol")];
    const cap = mountCap("ext4");
    await env.csi.stage({ volumeId: id, stagingTargetPath: staging, volumeCapability: cap });
    for (const t of targets) await env.csi.publish({ volumeId: id, stagingTargetPath: staging, targetPath: t, volumeCapability: cap });
    assert.equal(mountsUnder(env.dir).length, 3);
    assert.equal(readdirSync(env.path("state", "staged")).length, 1);
    for (const t of targets) await env.csi.unpublish({ volumeId: id, targetPath: t });
    await env.csi.unstage({ volumeId: id, stagingTargetPath: staging });

    assert.deepEqual(mountsUnder(env.dir), [], "no mounts");
    assert.deepEqual(loopsUnder(env.dir), [], "no loop devices");
    for (const t of targets) assert.equal(existsSync(t), false, `target ${t} removed`);
    assert.equal(existsSync(staging), false, "staging dir the driver created is removed");
    assert.equal(existsSync(env.path("staging", "leaves-nothing")), true, "parent dirs it did not create stay");
    assert.deepEqual(readdirSync(env.path("state", "staged")), [], "no staging record");
    assert.deepEqual(env.standIn.volumes().find((v) => v.id === id)?.attachedNodeIds, [], "detached in LightningStor");
  });

  test("a staging directory the CO created is left in place", async () => {
    const id = await newVolume(env, "co-made-dir");
    const staging = env.path("co-staging");
    execFileSync("mkdir", ["-p", staging]);
    await env.csi.stage({ volumeId: id, stagingTargetPath: staging, volumeCapability: mountCap() });
    await env.csi.unstage({ volumeId: id, stagingTargetPath: staging });
    assert.equal(existsSync(staging), true);
    assert.deepEqual(mountsUnder(env.dir), []);
  });

  test("a read-only publish refuses writes with EROFS while a rw publish of the same volume writes", async () => {
    const id = await newVolume(env, "read-only");
    const staging = env.path("staging", "read-only");
    const ro = env.path("pods", "ro", "mount");
    const rw = env.path("pods", "rw", "mount");
    const cap = mountCap("ext4", Mode.SINGLE_NODE_MULTI_WRITER);
    await env.csi.stage({ volumeId: id, stagingTargetPath: staging, volumeCapability: cap });
    await env.csi.publish({ volumeId: id, stagingTargetPath: staging, targetPath: ro, volumeCapability: cap, readonly: true });
    await env.csi.publish({ volumeId: id, stagingTargetPath: staging, targetPath: rw, volumeCapability: cap, readonly: false });
    assert.ok(findmntTarget(ro)?.options.split(",").includes("ro"));
    assert.throws(() => writeFileSync(`${ro}/nope`, "x"), (e: NodeJS.ErrnoException) => e.code === "EROFS");
    writeFileSync(`${rw}/yes`, "written");
    assert.equal(readFileSync(`${ro}/yes`, "utf8"), "written", "the ro view sees the rw writes");
    await env.csi.unpublish({ volumeId: id, targetPath: ro });
    await env.csi.unpublish({ volumeId: id, targetPath: rw });
    await env.csi.unstage({ volumeId: id, stagingTargetPath: staging });
  });

  test("two targets publish one staged volume and see the same files", async () => {
    const id = await newVolume(env, "two-targets");
    const staging = env.path("staging", "two-targets");
    const a = env.path("pods", "x", "vol");
    const b = env.path("pods", "y", "vol");
    const cap = mountCap("ext4");
    await env.csi.stage({ volumeId: id, stagingTargetPath: staging, volumeCapability: cap });
    await env.csi.publish({ volumeId: id, stagingTargetPath: staging, targetPath: a, volumeCapability: cap });
    await env.csi.publish({ volumeId: id, stagingTargetPath: staging, targetPath: b, volumeCapability: cap });
    writeFileSync(`${a}/shared.txt`, "from a");
    assert.equal(readFileSync(`${b}/shared.txt`, "utf8"), "from a");
    assert.equal(findmntTarget(a)?.source, findmntTarget(b)?.source);
    await env.csi.unpublish({ volumeId: id, targetPath: a });
    assert.equal(readFileSync(`${b}/shared.txt`, "utf8"), "from a", "b still published after a is gone");
    await env.csi.unpublish({ volumeId: id, targetPath: b });
    await env.csi.unstage({ volumeId: id, stagingTargetPath: staging });
    assert.deepEqual(mountsUnder(env.dir), []);
  });
});
