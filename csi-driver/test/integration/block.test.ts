// Raw block access: the staged device node is bind-mounted onto a file at
// the target; no filesystem is ever made.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, existsSync, openSync, readSync, statSync, writeSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { startEnv, type TestEnv } from "../helpers/env";
import { blockCap, Mode } from "../helpers/csi-client";
import { loopsOver, loopsUnder, mountsUnder } from "../helpers/host";
import { VolumeUsage_Unit as Unit } from "@plasmacloud/proto/csi";

const MiB = 1n << 20n;

describe("block volumes", () => {
  let env: TestEnv;
  before(async () => {
    env = await startEnv({ name: "block" });
  });
  after(async () => {
    await env?.close();
  });

  test("block stage+publish exposes the device at the target, unformatted; ro publish refuses writes", async () => {
    const cap = blockCap(Mode.SINGLE_NODE_MULTI_WRITER);
    const id = (await env.csi.createVolume({ name: "raw", capacityRange: { requiredBytes: 16n * MiB, limitBytes: 0n }, volumeCapabilities: [cap] })).volume?.volumeId ?? "";
    const staging = env.path("staging", "raw");
    const target = env.path("pods", "raw", "dev");
    const roTarget = env.path("pods", "raw-ro", "dev");
    execFileSync("mkdir", ["-p", env.path("pods", "raw"), env.path("pods", "raw-ro")]);
    await env.csi.stage({ volumeId: id, stagingTargetPath: staging, volumeCapability: cap });
    await env.csi.publish({ volumeId: id, stagingTargetPath: staging, targetPath: target, volumeCapability: cap });
    await env.csi.publish({ volumeId: id, stagingTargetPath: staging, targetPath: roTarget, volumeCapability: cap, readonly: true });
    assert.ok(statSync(target).isBlockDevice());
    const loop = loopsUnder(env.dir)[0]?.name ?? "";
    assert.equal(statSync(target).rdev, statSync(loop).rdev, "target is the loop device");
    assert.equal(loopsOver(loop).length, 1, "the read-only target is a read-only view of the volume's loop");
    const blkid = (() => {
      try {
        return execFileSync("blkid", ["-p", env.standIn.filePath(id)], { encoding: "utf8" });
      } catch {
        return "";
      }
    })();
    assert.equal(blkid, "", "block volumes are never formatted");

    const fd = openSync(target, "r+");
    writeSync(fd, Buffer.from("raw bytes"), 0, 9, 4096);
    closeSync(fd);
    const rfd = openSync(roTarget, "r");
    const buf = Buffer.alloc(9);
    readSync(rfd, buf, 0, 9, 4096);
    closeSync(rfd);
    assert.equal(buf.toString(), "raw bytes");
    // A read-only block target is a read-only device: writes fail with EPERM.
    const wfd = openSync(roTarget, "r+");
    try {
      assert.throws(() => writeSync(wfd, Buffer.from("no"), 0, 2, 0), (e: NodeJS.ErrnoException) => e.code === "EPERM");
    } finally {
      closeSync(wfd);
    }

    const stats = await env.csi.stats({ volumeId: id, volumePath: target });
    assert.equal(stats.usage.find((u) => u.unit === Unit.BYTES)?.total, 16n * MiB);

    await env.csi.unpublish({ volumeId: id, targetPath: target });
    await env.csi.unpublish({ volumeId: id, targetPath: roTarget });
    assert.equal(existsSync(target), false, "block target file removed");
    assert.deepEqual(loopsOver(loop), [], "the read-only view is released at unpublish");
    assert.equal(loopsUnder(env.dir).length, 1, "the volume's own loop stays until unstage");
    await env.csi.unstage({ volumeId: id, stagingTargetPath: staging });
    assert.deepEqual(mountsUnder(env.dir), []);
    assert.deepEqual(loopsUnder(env.dir), []);
    assert.equal(existsSync(staging), false);
  });
});
