// Expansion (controller grows the file, node refreshes the loop device and
// grows the filesystem) and volume stats, checked with statfs from outside.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { statfsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { status } from "@grpc/grpc-js";
import { VolumeUsage_Unit as Unit } from "@plasmacloud/proto/csi";
import { CAP_SYS_RESOURCE, hasCapability } from "../../src/capabilities";
import { startEnv, type TestEnv } from "../helpers/env";
import { codeOf, mountCap } from "../helpers/csi-client";
import { loopsUnder } from "../helpers/host";

const MiB = 1n << 20n;
const totalBytes = (path: string): number => {
  const s = statfsSync(path);
  return s.blocks * s.bsize;
};

describe("expand and stats", () => {
  let env: TestEnv;
  before(async () => {
    env = await startEnv({ name: "expand" });
  });
  after(async () => {
    await env?.close();
  });

  async function publishedVolume(name: string, fsType: string, size: bigint) {
    const cap = mountCap(fsType);
    const created = await env.csi.createVolume({ name, capacityRange: { requiredBytes: size, limitBytes: 0n }, volumeCapabilities: [cap] });
    const id = created.volume?.volumeId ?? "";
    const staging = env.path("staging", name);
    const target = env.path("pods", name, "mount");
    await env.csi.stage({ volumeId: id, stagingTargetPath: staging, volumeCapability: cap });
    await env.csi.publish({ volumeId: id, stagingTargetPath: staging, targetPath: target, volumeCapability: cap });
    return { id, cap, staging, target };
  }

  test("online: expand grows the xfs filesystem as seen at the publish target", async () => {
    const size = 320n * MiB;
    const v = await publishedVolume("grow-xfs", "xfs", size);
    const before = totalBytes(v.target);
    const grown = await env.csi.controllerExpand({ volumeId: v.id, capacityRange: { requiredBytes: size * 2n, limitBytes: 0n }, volumeCapability: v.cap });
    assert.equal(grown.capacityBytes, size * 2n);
    assert.equal(grown.nodeExpansionRequired, true);
    assert.equal(totalBytes(v.target), before, "filesystem unchanged until the node expands it");
    const r = await env.csi.nodeExpand({
      volumeId: v.id, volumePath: v.target, stagingTargetPath: v.staging, volumeCapability: v.cap,
      capacityRange: { requiredBytes: size * 2n, limitBytes: 0n },
    });
    assert.equal(r.capacityBytes, size * 2n);
    assert.ok(totalBytes(v.target) > before * 1.8, `xfs grew: ${before} -> ${totalBytes(v.target)}`);
    const loop = loopsUnder(env.dir).find((l) => l.backFile === env.standIn.filePath(v.id))?.name ?? "";
    assert.equal(execFileSync("blockdev", ["--getsize64", loop], { encoding: "utf8" }).trim(), String(size * 2n));
    // Repeats are no-op successes.
    assert.equal((await env.csi.controllerExpand({ volumeId: v.id, capacityRange: { requiredBytes: size * 2n, limitBytes: 0n } })).capacityBytes, size * 2n);
    await env.csi.nodeExpand({ volumeId: v.id, volumePath: v.target });
    await env.csi.unpublish({ volumeId: v.id, targetPath: v.target });
    await env.csi.unstage({ volumeId: v.id, stagingTargetPath: v.staging });
  });

  test("ext4: grows at the publish target; online only with CAP_SYS_RESOURCE, else offline on the staged volume", async () => {
    const size = 64n * MiB;
    const v = await publishedVolume("grow-ext4", "ext4", size);
    const before = totalBytes(v.target);
    await env.csi.controllerExpand({ volumeId: v.id, capacityRange: { requiredBytes: size * 2n, limitBytes: 0n }, volumeCapability: v.cap });
    const online = env.csi.nodeExpand({ volumeId: v.id, volumePath: v.target, stagingTargetPath: v.staging, volumeCapability: v.cap });
    if (hasCapability(CAP_SYS_RESOURCE)) {
      await online;
    } else {
      // This host withholds CAP_SYS_RESOURCE: refused while published ...
      assert.equal(await codeOf(online), status.FAILED_PRECONDITION);
      assert.equal(totalBytes(v.target), before);
      // ... and done offline on the staged volume once unpublished.
      await env.csi.unpublish({ volumeId: v.id, targetPath: v.target });
      await env.csi.nodeExpand({ volumeId: v.id, volumePath: v.staging, stagingTargetPath: v.staging, volumeCapability: v.cap });
      await env.csi.publish({ volumeId: v.id, stagingTargetPath: v.staging, targetPath: v.target, volumeCapability: v.cap });
    }
    assert.ok(totalBytes(v.target) > before * 1.8, `ext4 grew: ${before} -> ${totalBytes(v.target)}`);
    await env.csi.unpublish({ volumeId: v.id, targetPath: v.target });
    await env.csi.unstage({ volumeId: v.id, stagingTargetPath: v.staging });
  });

  test("stats report bytes and inodes as statfs does, and an abnormal condition once the mount is gone", async () => {
    const v = await publishedVolume("stats", "ext4", 64n * MiB);
    const r = await env.csi.stats({ volumeId: v.id, volumePath: v.target });
    const s = statfsSync(v.target);
    const bytes = r.usage.find((u) => u.unit === Unit.BYTES);
    const inodes = r.usage.find((u) => u.unit === Unit.INODES);
    assert.equal(bytes?.total, BigInt(s.blocks * s.bsize));
    assert.equal(inodes?.total, BigInt(s.files));
    assert.equal(inodes?.available, BigInt(s.ffree));
    assert.ok((bytes?.used ?? 0n) > 0n);
    assert.equal(r.volumeCondition?.abnormal, false);

    // Someone unmounts the target behind the driver's back.
    execFileSync("umount", [v.target]);
    const gone = await env.csi.stats({ volumeId: v.id, volumePath: v.target });
    assert.equal(gone.volumeCondition?.abnormal, true);
    assert.deepEqual(gone.usage, []);

    await env.csi.unpublish({ volumeId: v.id, targetPath: v.target });
    await env.csi.unstage({ volumeId: v.id, stagingTargetPath: v.staging });
  });
});
