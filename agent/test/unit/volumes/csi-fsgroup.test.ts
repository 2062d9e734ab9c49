// fsGroup on CSI volumes, the decisions and the once-per-publish bookkeeping:
// who applies the group (the driver with VOLUME_MOUNT_GROUP, else the agent
// when the driver's fsGroupPolicy allows it), a walk failure retried with the
// kubelet's backoff, files that refuse the change reported and carried past;
// the config and pod fields that steer it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CSIVolumeSource, Pod, Volume } from "@plasmacloud/proto/k8shost";
import { createLogger } from "@plasmacloud/common/log";
import { buildConfig } from "../../../src/config/schema";
import { decodeManifests } from "../../../src/manifest/decode";
import { validatePod } from "../../../src/pods/validate";
import { agentAppliesFSGroup, CsiFSGroup, volumeMountGroup } from "../../../src/volumes/csi/fsgroup";
import { VolumeError } from "../../../src/volumes/types";

const gid = process.getgid!();
const log = createLogger({ component: "test", level: "silent", sink: () => undefined });
const mode = (p: string): number => statSync(p).mode & 0o7777;

function pod(fsGroup: number | undefined, fsGroupChangePolicy?: string): Pod {
  return Pod.fromPartial({
    metadata: { name: "p", namespace: "default", uid: "uid-1" },
    spec: { securityContext: { fsGroup: fsGroup === undefined ? undefined : BigInt(fsGroup), fsGroupChangePolicy }, containers: [{ name: "c", image: "i" }] },
  });
}

const vol = (csi: Partial<CSIVolumeSource> = {}): Volume => Volume.fromPartial({ name: "data", csi: { driver: "d.example", volumeHandle: "vol-1", fsType: "ext4", ...csi } });

function recorder(): { events: { type: string; reason: string; message: string }[]; emit: (p: Pod, type: string, reason: string, message: string) => void } {
  const events: { type: string; reason: string; message: string }[] = [];
  return { events, emit: (_p, type, reason, message) => events.push({ type, reason, message }) };
}

/** A publish target (a plain directory here) beside its volume directory. */
function published(t: { after(fn: () => void): void }): { volDir: string; target: string; file: string } {
  const volDir = mkdtempSync(join(tmpdir(), "csi-fsg-"));
  t.after(() => rmSync(volDir, { recursive: true, force: true }));
  const target = join(volDir, "mount");
  mkdirSync(target);
  chmodSync(target, 0o755);
  const file = join(target, "f");
  writeFileSync(file, "x");
  chmodSync(file, 0o600);
  return { volDir, target, file };
}

test("who applies fsGroup: the kubelet's supportsFSGroup per policy, read-only and fsType; volume_mount_group only for a VOLUME_MOUNT_GROUP driver", () => {
  const src = (o: Partial<CSIVolumeSource>): CSIVolumeSource => vol(o).csi!;
  assert.equal(agentAppliesFSGroup(undefined, src({}), "File"), false, "no fsGroup");
  assert.equal(agentAppliesFSGroup(2000, src({}), "None"), false);
  assert.equal(agentAppliesFSGroup(2000, src({ readOnly: true }), "File"), false, "read-only volumes are never changed");
  assert.equal(agentAppliesFSGroup(2000, src({ fsType: "" }), "ReadWriteOnceWithFSType"), false, "the default policy needs an fsType");
  assert.equal(agentAppliesFSGroup(2000, src({ fsType: "ext4" }), "ReadWriteOnceWithFSType"), true);
  assert.equal(agentAppliesFSGroup(2000, src({ fsType: "" }), "File"), true, "File: whatever the fsType");
  assert.equal(volumeMountGroup(2000, true), "2000");
  assert.equal(volumeMountGroup(2000, false), "");
  assert.equal(volumeMountGroup(undefined, true), "");
});

test("applied once per publish: the walk runs, is recorded beside vol_data.json, and later syncs leave the pod's own changes alone", async (t) => {
  const { volDir, target, file } = published(t);
  const ev = recorder();
  const f = new CsiFSGroup({}, ev, log);
  await f.ensure(pod(gid), vol(), volDir, target);
  assert.equal(mode(file), 0o660);
  assert.equal(mode(target), 0o2775);
  assert.deepEqual(JSON.parse(readFileSync(join(volDir, "vol_fsgroup.json"), "utf8")), { fsGroup: gid, by: "agent" });
  chmodSync(file, 0o600); // the pod's choice after start
  await f.ensure(pod(gid), vol(), volDir, target);
  assert.equal(mode(file), 0o600, "not walked again");
  assert.deepEqual(ev.events, []);
});

test("nothing is changed when the policy, read-only or a delegating driver says so", async (t) => {
  const { volDir, target, file } = published(t);
  await new CsiFSGroup({ "d.example": "None" }, recorder(), log).ensure(pod(gid), vol(), volDir, target);
  await new CsiFSGroup({}, recorder(), log).ensure(pod(gid), vol({ readOnly: true }), volDir, target);
  await new CsiFSGroup({}, recorder(), log).ensure(pod(gid), vol({ fsType: "" }), volDir, target);
  await new CsiFSGroup({}, recorder(), log).ensure(pod(undefined), vol(), volDir, target);
  assert.equal(mode(file), 0o600);
  const delegating = new CsiFSGroup({}, recorder(), log);
  await delegating.delegated(volDir, gid);
  await delegating.ensure(pod(gid), vol(), volDir, target);
  assert.equal(mode(file), 0o600, "the driver applied it at NodePublish");
  assert.equal(mode(target), 0o755);
});

test("OnRootMismatch from the pod: a root already right is not walked", async (t) => {
  const { volDir, target, file } = published(t);
  chmodSync(target, 0o2770);
  await new CsiFSGroup({}, recorder(), log).ensure(pod(gid, "OnRootMismatch"), vol(), volDir, target);
  assert.equal(mode(file), 0o600);
  rmSync(join(volDir, "vol_fsgroup.json"));
  await new CsiFSGroup({}, recorder(), log).ensure(pod(gid, "Always"), vol(), volDir, target);
  assert.equal(mode(file), 0o660);
});

test("a walk that cannot run is FailedMount, retried with the kubelet's backoff (500 ms doubling), not at every sync", async (t) => {
  const { volDir } = published(t);
  const target = join(volDir, "not-there");
  const f = new CsiFSGroup({}, recorder(), log);
  const first = await f.ensure(pod(gid), vol(), volDir, target).then(() => undefined, (e: unknown) => e);
  assert.ok(first instanceof VolumeError);
  assert.equal(first.reason, "FailedMount");
  assert.match(first.message, /^MountVolume\.SetUp failed for volume "data": applyFSGroup failed for vol vol-1: .*ENOENT/);
  assert.equal(first.retryInMs, 500);
  mkdirSync(target);
  // Within the backoff the walk is not tried again, even though it would now succeed.
  const again = await f.ensure(pod(gid), vol(), volDir, target).then(() => undefined, (e: unknown) => e);
  assert.ok(again instanceof VolumeError);
  assert.ok(again.retryInMs > 0 && again.retryInMs <= 500, String(again.retryInMs));
  assert.equal(again.message, first.message);
  f.forget("uid-1"); // the pod went away: its backoff with it
  await f.ensure(pod(gid), vol(), volDir, target);
  assert.equal(mode(target), 0o2775);
});

test("files that refuse the change: a Warning event and a log naming them, the volume counts as set up (no retry storm)", async (t) => {
  const { volDir } = published(t);
  const ev = recorder();
  const f = new CsiFSGroup({}, ev, log);
  // procfs sysctls refuse chown and chmod even to root.
  await f.ensure(pod(4242), vol(), volDir, "/proc/sys/kernel/random");
  assert.equal(ev.events.length, 1);
  assert.equal(ev.events[0]!.type, "Warning");
  assert.equal(ev.events[0]!.reason, "VolumePermissionChangeFailed");
  assert.match(ev.events[0]!.message, /^fsGroup 4242 could not be applied to \d+ of \d+ files and directories \([a-z_]+: EPERM, .*\) of volume "data"/);
  await f.ensure(pod(4242), vol(), volDir, "/proc/sys/kernel/random");
  assert.equal(ev.events.length, 1, "recorded: not walked (nor reported) again");
});

test("config: volumes.csiFSGroupPolicy per driver, checked by name; pod: fsGroupChangePolicy accepted by the manifest decoder and validated", () => {
  const base = { nodeName: "n1" };
  assert.deepEqual(buildConfig(base, { volumes: { csiFSGroupPolicy: { "csi.lightningstor.plasmacloud.io": "File" } } }).volumes.csiFSGroupPolicy, { "csi.lightningstor.plasmacloud.io": "File" });
  assert.throws(() => buildConfig(base, { volumes: { csiFSGroupPolicy: { "d.example": "Sometimes" } } }), /config field 'volumes.csiFSGroupPolicy.d.example': 'Sometimes' is not one of ReadWriteOnceWithFSType, File, None/);
  assert.throws(() => buildConfig(base, { volumes: { csiFSGroupPolicy: { "d.example": 1 } } }), /config field 'volumes.csiFSGroupPolicy'/);

  const [doc] = decodeManifests("kind: Pod\napiVersion: v1\nmetadata: { name: p }\nspec:\n  securityContext: { fsGroup: 2000, fsGroupChangePolicy: OnRootMismatch }\n  containers: [{ name: c, image: i }]\n", "m.yaml", { accept: ["Pod"], namespace: "default" });
  assert.equal((doc!.object as Pod).spec!.securityContext!.fsGroupChangePolicy, "OnRootMismatch");
  const withPolicy = (p: string): string | undefined => validatePod(pod(2000, p), () => undefined);
  assert.equal(withPolicy("OnRootMismatch"), undefined);
  assert.equal(withPolicy("Always"), undefined);
  assert.equal(withPolicy("Never"), "spec.securityContext.fsGroupChangePolicy: 'Never' is not one of OnRootMismatch, Always");
});
