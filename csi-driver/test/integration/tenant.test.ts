// The tenant check: a volume is staged/published only for the tenant that owns
// it when the CO names one in volume_context; another tenant gets NOT_FOUND and
// nothing is attached or mounted for it.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { TenantKeys } from "@plasmacloud/proto/annotations";
import { startEnv, ORG, PROJECT, type TestEnv } from "../helpers/env";
import { codeOf, mountCap } from "../helpers/csi-client";
import { loopsUnder, mountsUnder } from "../helpers/host";

const MiB = 1n << 20n;
const mine = { [TenantKeys.orgId]: ORG, [TenantKeys.projectId]: PROJECT };
const theirs = { [TenantKeys.orgId]: "org-b", [TenantKeys.projectId]: "proj-b" };

describe("tenant in volume_context", () => {
  let env: TestEnv;
  let vol: string;
  before(async () => {
    env = await startEnv({ name: "tenant" });
    vol = (await env.csi.createVolume({ name: "t", capacityRange: { requiredBytes: 32n * MiB, limitBytes: 0n }, volumeCapabilities: [mountCap()] })).volume?.volumeId ?? "";
    assert.ok(vol);
  });
  after(async () => {
    await env?.close();
  });

  test("another tenant cannot stage the volume: NOT_FOUND, no loop device, no mount", async () => {
    const staging = env.path("staging", "t");
    const code = await codeOf(env.csi.stage({ volumeId: vol, stagingTargetPath: staging, volumeCapability: mountCap(), volumeContext: theirs }));
    assert.equal(code, status.NOT_FOUND);
    assert.deepEqual(loopsUnder(env.dir), []);
    assert.deepEqual(mountsUnder(env.dir), []);
    assert.equal(env.standIn.calls().AttachVolume ?? 0, 0, "no attach for a refused tenant");
  });

  test("the owner stages and publishes; another tenant cannot publish the staged volume", async () => {
    const staging = env.path("staging", "t");
    await env.csi.stage({ volumeId: vol, stagingTargetPath: staging, volumeCapability: mountCap(), volumeContext: mine });
    const other = env.path("pods", "other", "mount");
    const code = await codeOf(env.csi.publish({ volumeId: vol, stagingTargetPath: staging, targetPath: other, volumeCapability: mountCap(), volumeContext: theirs }));
    assert.equal(code, status.NOT_FOUND);
    assert.ok(!mountsUnder(env.dir).some((m) => m.mountPoint === other), "no mount for the other tenant");
    const own = env.path("pods", "own", "mount");
    await env.csi.publish({ volumeId: vol, stagingTargetPath: staging, targetPath: own, volumeCapability: mountCap(), volumeContext: mine });
    assert.ok(mountsUnder(env.dir).some((m) => m.mountPoint === own));
    // Without a tenant the single-tenant contract stays as it was.
    const plain = env.path("pods", "plain", "mount");
    await env.csi.publish({ volumeId: vol, stagingTargetPath: staging, targetPath: plain, volumeCapability: mountCap() });
    for (const t of [own, plain]) await env.csi.unpublish({ volumeId: vol, targetPath: t });
    await env.csi.unstage({ volumeId: vol, stagingTargetPath: staging });
    assert.deepEqual(mountsUnder(env.dir), []);
    assert.deepEqual(loopsUnder(env.dir), []);
  });

  test("a partial tenant (org only) that does not match is refused too", async () => {
    const code = await codeOf(env.csi.stage({ volumeId: vol, stagingTargetPath: env.path("staging", "t2"), volumeCapability: mountCap(), volumeContext: { [TenantKeys.orgId]: ORG } }));
    assert.equal(code, status.NOT_FOUND);
  });
});
