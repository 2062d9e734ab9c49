// Restart safety: what is needed to unpublish/unstage is found again from the
// mount table, the loop devices and the on-disk staging record.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { startEnv, type TestEnv } from "../helpers/env";
import { status } from "@grpc/grpc-js";
import { codeOf, mountCap } from "../helpers/csi-client";
import { loopsUnder, mountsUnder } from "../helpers/host";

const MiB = 1n << 20n;

describe("driver restart", () => {
  let env: TestEnv;
  before(async () => {
    env = await startEnv({ name: "restart" });
  });
  after(async () => {
    await env?.close();
  });

  async function stagedAndPublished(name: string): Promise<{ id: string; staging: string; target: string }> {
    const cap = mountCap();
    const id = (await env.csi.createVolume({ name, capacityRange: { requiredBytes: 32n * MiB, limitBytes: 0n }, volumeCapabilities: [cap] })).volume?.volumeId ?? "";
    const staging = env.path("staging", name);
    const target = env.path("pods", name, "mount");
    await env.csi.stage({ volumeId: id, stagingTargetPath: staging, volumeCapability: cap });
    await env.csi.publish({ volumeId: id, stagingTargetPath: staging, targetPath: target, volumeCapability: cap });
    writeFileSync(`${target}/f`, name);
    return { id, staging, target };
  }

  test("a restarted driver answers repeats and unpublishes/unstages what the old one staged", async () => {
    const v = await stagedAndPublished("survivor");
    await env.restartDriver();
    // Repeats after restart are idempotent successes.
    await env.csi.stage({ volumeId: v.id, stagingTargetPath: v.staging, volumeCapability: mountCap() });
    await env.csi.publish({ volumeId: v.id, stagingTargetPath: v.staging, targetPath: v.target, volumeCapability: mountCap() });
    assert.equal(readFileSync(`${v.target}/f`, "utf8"), "survivor");
    await env.csi.unpublish({ volumeId: v.id, targetPath: v.target });
    await env.csi.unstage({ volumeId: v.id, stagingTargetPath: v.staging });
    assert.deepEqual(mountsUnder(env.dir), []);
    assert.deepEqual(loopsUnder(env.dir), []);
  });

  test("with its state dir lost, the driver still unstages from the mount table and loop devices", async () => {
    const v = await stagedAndPublished("amnesia");
    await env.restartDriver();
    rmSync(env.path("state"), { recursive: true, force: true });
    // Another volume cannot claim the staging path; the same volume is adopted.
    const other = (await env.csi.createVolume({ name: "intruder", capacityRange: { requiredBytes: 8n * MiB, limitBytes: 0n }, volumeCapabilities: [mountCap()] })).volume?.volumeId ?? "";
    assert.equal(await codeOf(env.csi.stage({ volumeId: other, stagingTargetPath: v.staging, volumeCapability: mountCap() })), status.ALREADY_EXISTS);
    assert.deepEqual(env.standIn.volumes().find((x) => x.id === other)?.attachedNodeIds, [], "the refused stage left no attachment");
    await env.csi.stage({ volumeId: v.id, stagingTargetPath: v.staging, volumeCapability: mountCap() });
    await env.csi.unpublish({ volumeId: v.id, targetPath: v.target });
    await env.csi.unstage({ volumeId: v.id, stagingTargetPath: v.staging });
    assert.deepEqual(mountsUnder(env.dir), []);
    assert.deepEqual(loopsUnder(env.dir), []);
    assert.deepEqual(env.standIn.volumes().find((x) => x.id === v.id)?.attachedNodeIds, []);
  });
});
