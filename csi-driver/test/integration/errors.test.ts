// Every RPC's error paths with the codes the CSI spec asks for, idempotent
// repeats, concurrency (ABORTED) and tenant isolation.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { credentials, Metadata, status } from "@grpc/grpc-js";
import { grpcCodeOf, unary } from "@plasmacloud/common/grpc";
import { VolumeServiceClient } from "@plasmacloud/proto/lightningstor";
import { startEnv, OTHER_TENANT_TOKEN, type TestEnv } from "../helpers/env";
import { blockCap, codeOf, Mode, mountCap } from "../helpers/csi-client";
import { loopsUnder, mountsUnder } from "../helpers/host";

const MiB = 1n << 20n;
const range = (n: bigint, limit = 0n) => ({ requiredBytes: n, limitBytes: limit });

describe("error codes and idempotency", () => {
  let env: TestEnv;
  let vol: string;
  before(async () => {
    env = await startEnv({ name: "errors" });
    vol = (await env.csi.createVolume({ name: "base", capacityRange: range(32n * MiB), volumeCapabilities: [mountCap()] })).volume?.volumeId ?? "";
  });
  after(async () => {
    await env?.close();
  });

  test("missing required fields are INVALID_ARGUMENT on every RPC", async () => {
    const c = env.csi;
    const cap = mountCap();
    const p = env.path("x");
    const cases: [string, Promise<unknown>][] = [
      ["CreateVolume name", c.createVolume({ volumeCapabilities: [cap] })],
      ["CreateVolume caps", c.createVolume({ name: "n" })],
      ["CreateVolume access mode", c.createVolume({ name: "n", volumeCapabilities: [{ mount: cap.mount, accessMode: undefined }] })],
      ["CreateVolume access type", c.createVolume({ name: "n", volumeCapabilities: [{ accessMode: { mode: Mode.SINGLE_NODE_WRITER } }] })],
      ["CreateVolume fs type", c.createVolume({ name: "n", volumeCapabilities: [mountCap("vfat")] })],
      ["CreateVolume multi-node", c.createVolume({ name: "n", volumeCapabilities: [mountCap("ext4", Mode.MULTI_NODE_MULTI_WRITER)] })],
      ["DeleteVolume id", c.deleteVolume({})],
      ["Validate id", c.validate({ volumeCapabilities: [cap] })],
      ["Validate caps", c.validate({ volumeId: vol })],
      ["ControllerExpand id", c.controllerExpand({ capacityRange: range(MiB) })],
      ["ControllerExpand range", c.controllerExpand({ volumeId: vol })],
      ["ControllerGetVolume id", c.controllerGetVolume({})],
      ["Stage id", c.stage({ stagingTargetPath: p, volumeCapability: cap })],
      ["Stage path", c.stage({ volumeId: vol, volumeCapability: cap })],
      ["Stage relative path", c.stage({ volumeId: vol, stagingTargetPath: "rel/path", volumeCapability: cap })],
      ["Stage capability", c.stage({ volumeId: vol, stagingTargetPath: p })],
      ["Unstage id", c.unstage({ stagingTargetPath: p })],
      ["Unstage path", c.unstage({ volumeId: vol })],
      ["Publish id", c.publish({ stagingTargetPath: p, targetPath: p, volumeCapability: cap })],
      ["Publish target", c.publish({ volumeId: vol, stagingTargetPath: p, volumeCapability: cap })],
      ["Publish capability", c.publish({ volumeId: vol, stagingTargetPath: p, targetPath: p })],
      ["Unpublish id", c.unpublish({ targetPath: p })],
      ["Unpublish target", c.unpublish({ volumeId: vol })],
      ["Stats id", c.stats({ volumePath: p })],
      ["Stats path", c.stats({ volumeId: vol })],
      ["NodeExpand id", c.nodeExpand({ volumePath: p })],
      ["NodeExpand path", c.nodeExpand({ volumeId: vol })],
    ];
    for (const [name, call] of cases) assert.equal(await codeOf(call), status.INVALID_ARGUMENT, name);
  });

  test("unknown volumes are NOT_FOUND (DeleteVolume of one succeeds)", async () => {
    const ghost = "vol-00000000000000000000000000000000";
    const c = env.csi;
    assert.equal(await codeOf(c.stage({ volumeId: ghost, stagingTargetPath: env.path("ghost"), volumeCapability: mountCap() })), status.NOT_FOUND);
    assert.equal(await codeOf(c.validate({ volumeId: ghost, volumeCapabilities: [mountCap()] })), status.NOT_FOUND);
    assert.equal(await codeOf(c.controllerExpand({ volumeId: ghost, capacityRange: range(64n * MiB) })), status.NOT_FOUND);
    assert.equal(await codeOf(c.controllerGetVolume({ volumeId: ghost })), status.NOT_FOUND);
    assert.equal(await codeOf(c.publish({ volumeId: ghost, stagingTargetPath: env.path("ghost"), targetPath: env.path("ghost-t"), volumeCapability: mountCap() })), status.NOT_FOUND);
    assert.equal(await codeOf(c.stats({ volumeId: vol, volumePath: env.path("no", "such", "path") })), status.NOT_FOUND);
    assert.equal(await codeOf(c.nodeExpand({ volumeId: vol, volumePath: env.path("no", "such", "path") })), status.NOT_FOUND);
    await c.deleteVolume({ volumeId: ghost });
    assert.deepEqual(mountsUnder(env.dir), [], "the failed stage left nothing");
  });

  test("another tenant's volume does not exist for the driver's tenant", async () => {
    const ls = new VolumeServiceClient(env.standIn.address, credentials.createInsecure());
    const md = new Metadata();
    md.set("authorization", `Bearer ${OTHER_TENANT_TOKEN}`);
    const foreign = await unary(ls, "CreateVolume", ls.createVolume, { orgId: "", projectId: "", name: "theirs", sizeBytes: 8n * MiB, parameters: {} }, { metadata: md, timeoutMs: 10_000 });
    ls.close();
    assert.equal(await codeOf(env.csi.stage({ volumeId: foreign.id, stagingTargetPath: env.path("foreign"), volumeCapability: mountCap() })), status.NOT_FOUND);
    assert.equal(await codeOf(env.csi.controllerGetVolume({ volumeId: foreign.id })), status.NOT_FOUND);
    const listed = await env.csi.listVolumes({});
    assert.ok(!listed.entries.some((e) => e.volume?.volumeId === foreign.id));
  });

  test("CreateVolume: same name and compatible arguments give the same volume; incompatible is ALREADY_EXISTS", async () => {
    const a = await env.csi.createVolume({ name: "idem", capacityRange: range(10n * MiB), volumeCapabilities: [mountCap()], parameters: { tier: "fast" } });
    const b = await env.csi.createVolume({ name: "idem", capacityRange: range(10n * MiB), volumeCapabilities: [mountCap()], parameters: { tier: "fast" } });
    assert.equal(a.volume?.volumeId, b.volume?.volumeId);
    assert.equal(a.volume?.capacityBytes, 10n * MiB);
    assert.equal(await codeOf(env.csi.createVolume({ name: "idem", capacityRange: range(20n * MiB), volumeCapabilities: [mountCap()], parameters: { tier: "fast" } })), status.ALREADY_EXISTS);
    assert.equal(await codeOf(env.csi.createVolume({ name: "idem", capacityRange: range(10n * MiB), volumeCapabilities: [mountCap()], parameters: { tier: "slow" } })), status.ALREADY_EXISTS);
    assert.equal(await codeOf(env.csi.createVolume({ name: "r", capacityRange: range(10n * MiB, 5n * MiB), volumeCapabilities: [mountCap()] })), status.OUT_OF_RANGE);
    const limited = await env.csi.createVolume({ name: "odd", capacityRange: range(5000n, 8192n), volumeCapabilities: [blockCap()] });
    assert.ok((limited.volume?.capacityBytes ?? 0n) >= 5000n && (limited.volume?.capacityBytes ?? 0n) <= 8192n, "capacity range respected");
    await env.csi.deleteVolume({ volumeId: a.volume?.volumeId ?? "" });
    await env.csi.deleteVolume({ volumeId: a.volume?.volumeId ?? "" });
    assert.ok(!env.standIn.volumes().some((v) => v.id === a.volume?.volumeId));
  });

  test("ValidateVolumeCapabilities confirms supported and explains unsupported capabilities", async () => {
    const ok = await env.csi.validate({ volumeId: vol, volumeCapabilities: [mountCap("xfs"), blockCap()] });
    assert.equal(ok.confirmed?.volumeCapabilities.length, 2);
    const no = await env.csi.validate({ volumeId: vol, volumeCapabilities: [mountCap("ext4", Mode.MULTI_NODE_MULTI_WRITER)] });
    assert.equal(no.confirmed, undefined);
    assert.match(no.message, /not supported/);
  });

  test("ListVolumes pages with tokens and answers ABORTED to a bad starting_token", async () => {
    for (const n of ["page-1", "page-2", "page-3"]) await env.csi.createVolume({ name: n, capacityRange: range(MiB), volumeCapabilities: [mountCap()] });
    const all = await env.csi.listVolumes({});
    const seen: string[] = [];
    let token = "";
    do {
      const page = await env.csi.listVolumes({ maxEntries: 2, startingToken: token });
      assert.ok(page.entries.length <= 2);
      seen.push(...page.entries.map((e) => e.volume?.volumeId ?? ""));
      token = page.nextToken;
    } while (token);
    assert.deepEqual(seen, all.entries.map((e) => e.volume?.volumeId ?? ""));
    assert.ok(seen.length >= 4);
    assert.equal(await codeOf(env.csi.listVolumes({ startingToken: "not-a-token" })), status.ABORTED);
    assert.equal(await codeOf(env.csi.listVolumes({ maxEntries: -1 })), status.INVALID_ARGUMENT);
  });

  test("node repeats succeed; incompatible re-stage/re-publish get ALREADY_EXISTS / FAILED_PRECONDITION", async () => {
    const c = env.csi;
    const staging = env.path("s", "repeat");
    const t1 = env.path("p", "one");
    const t2 = env.path("p", "two");
    const single = mountCap("ext4", Mode.SINGLE_NODE_SINGLE_WRITER);
    await c.stage({ volumeId: vol, stagingTargetPath: staging, volumeCapability: single });
    await c.stage({ volumeId: vol, stagingTargetPath: staging, volumeCapability: single });
    assert.equal(await codeOf(c.stage({ volumeId: vol, stagingTargetPath: staging, volumeCapability: mountCap("xfs", Mode.SINGLE_NODE_SINGLE_WRITER) })), status.ALREADY_EXISTS);
    assert.equal(await codeOf(c.stage({ volumeId: vol, stagingTargetPath: env.path("s", "elsewhere"), volumeCapability: single })), status.FAILED_PRECONDITION);

    await c.publish({ volumeId: vol, stagingTargetPath: staging, targetPath: t1, volumeCapability: single });
    await c.publish({ volumeId: vol, stagingTargetPath: staging, targetPath: t1, volumeCapability: single });
    // Same target, different readonly: the spec's "published but incompatible".
    assert.equal(await codeOf(c.publish({ volumeId: vol, stagingTargetPath: staging, targetPath: t1, volumeCapability: single, readonly: true })), status.ALREADY_EXISTS);
    // A second target for a single-writer volume, and block access on a mount-staged volume.
    assert.equal(await codeOf(c.publish({ volumeId: vol, stagingTargetPath: staging, targetPath: t2, volumeCapability: single })), status.FAILED_PRECONDITION);
    assert.equal(await codeOf(c.publish({ volumeId: vol, stagingTargetPath: staging, targetPath: t2, volumeCapability: blockCap() })), status.FAILED_PRECONDITION);
    assert.equal(await codeOf(c.publish({ volumeId: vol, targetPath: t2, volumeCapability: single })), status.FAILED_PRECONDITION, "no staging path");
    assert.equal(await codeOf(c.publish({ volumeId: vol, stagingTargetPath: env.path("s", "never"), targetPath: t2, volumeCapability: single })), status.FAILED_PRECONDITION, "not staged there");
    // A staged (attached) volume cannot be deleted.
    assert.equal(await codeOf(c.deleteVolume({ volumeId: vol })), status.FAILED_PRECONDITION);

    await c.unpublish({ volumeId: vol, targetPath: t1 });
    await c.unpublish({ volumeId: vol, targetPath: t1 });
    await c.unpublish({ volumeId: vol, targetPath: env.path("p", "never-published") });
    await c.unstage({ volumeId: vol, stagingTargetPath: staging });
    await c.unstage({ volumeId: vol, stagingTargetPath: staging });
    assert.deepEqual(mountsUnder(env.dir), []);
    assert.deepEqual(loopsUnder(env.dir), []);
  });

  test("two concurrent calls on one volume: one runs, the other is ABORTED; the retry succeeds", async () => {
    const staging = env.path("s", "race");
    const req = { volumeId: vol, stagingTargetPath: staging, volumeCapability: mountCap() };
    const results = await Promise.allSettled([env.csi.stage(req), env.csi.stage(req)]);
    const codes = results.map((r) => (r.status === "fulfilled" ? status.OK : grpcCodeOf(r.reason))).sort();
    assert.deepEqual(codes, [status.OK, status.ABORTED].sort());
    await env.csi.stage(req);
    assert.equal(env.driver.locks.inFlight(), 0);
    await env.csi.unstage({ volumeId: vol, stagingTargetPath: staging });
  });

  test("identity, capabilities and unimplemented RPCs", async () => {
    const info = await env.csi.getPluginInfo();
    assert.equal(info.name, "csi.lightningstor.plasmacloud.io");
    assert.ok(info.vendorVersion);
    assert.equal((await env.csi.probe()).ready, true);
    const node = await env.csi.nodeInfo();
    assert.equal(node.nodeId, "worker-1");
    assert.equal(node.maxVolumesPerNode, 64n);
    assert.ok((await env.csi.nodeCapabilities()).capabilities.length >= 4);
    assert.ok((await env.csi.controllerCapabilities()).capabilities.length >= 3);
    assert.equal(await codeOf(env.csi.controllerPublish({ volumeId: vol, nodeId: "worker-1", volumeCapability: mountCap() })), status.UNIMPLEMENTED);
    const got = await env.csi.controllerGetVolume({ volumeId: vol });
    assert.equal(got.volume?.capacityBytes, 32n * MiB);
  });

  test("Probe is not ready when LightningStor does not answer", async () => {
    await env.standIn.stop();
    assert.equal((await env.csi.probe()).ready, false);
  });
});
