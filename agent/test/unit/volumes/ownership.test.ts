// The ownership walker (the kubelet's SetVolumeOwnership): the modes it gives,
// that it never follows a symlink, OnRootMismatch, and failures counted while
// the walk goes on. Runs without privilege: the group is the test's own (a
// chown to it is allowed), so what the walk visibly changes is the modes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ownedMode, rootNeedsChange, setVolumeOwnership } from "../../../src/volumes/ownership";

const gid = process.getgid!();
const mode = (p: string): number => statSync(p).mode & 0o7777;

function scratch(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), "own-"));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function file(p: string, m: number): string {
  writeFileSync(p, "x");
  chmodSync(p, m);
  return p;
}

function dir(p: string, m: number): string {
  mkdirSync(p, { recursive: true });
  chmodSync(p, m);
  return p;
}

test("modes as the kubelet computes them: group rw on files (their x bits kept, none added), group rwx + setgid on directories", async (t) => {
  const vol = dir(join(scratch(t), "vol"), 0o755);
  file(join(vol, "private"), 0o600);
  file(join(vol, "script"), 0o700);
  file(join(vol, "public"), 0o644);
  file(join(vol, "setuid"), 0o4700);
  dir(join(vol, "sub"), 0o700);
  file(join(vol, "sub", "deep"), 0o400);
  const r = await setVolumeOwnership(vol, gid, { readOnly: false });
  assert.deepEqual(r, { skipped: false, visited: 7, failed: 0, failures: [] });
  assert.equal(mode(join(vol, "private")), 0o660);
  assert.equal(mode(join(vol, "script")), 0o760, "owner x stays, no group x is added to a file");
  assert.equal(mode(join(vol, "public")), 0o664);
  assert.equal(mode(join(vol, "setuid")), 0o4760, "special bits kept");
  assert.equal(mode(join(vol, "sub")), 0o2770);
  assert.equal(mode(join(vol, "sub", "deep")), 0o660);
  assert.equal(mode(vol), 0o2775, "the root too");
  for (const p of ["private", "sub", "sub/deep"]) assert.equal(statSync(join(vol, p)).gid, gid);
});

test("a read-only volume gets group r (and x, setgid on directories): roMask", async (t) => {
  const vol = dir(join(scratch(t), "vol"), 0o700);
  file(join(vol, "f"), 0o600);
  await setVolumeOwnership(vol, gid, { readOnly: true });
  assert.equal(mode(join(vol, "f")), 0o640);
  assert.equal(mode(vol), 0o2750);
  assert.equal(ownedMode(0o600, false, true), 0o640);
  assert.equal(ownedMode(0o600, false, false), 0o660);
  assert.equal(ownedMode(0o700, true, false), 0o2770);
});

test("symlinks are never followed: out of the volume (file or directory), nor as the volume's root", async (t) => {
  const root = scratch(t);
  const outside = dir(join(root, "outside"), 0o700);
  const secret = file(join(outside, "secret"), 0o600);
  const outDir = dir(join(outside, "dir"), 0o700);
  file(join(outDir, "inner"), 0o600);
  const vol = dir(join(root, "vol"), 0o755);
  symlinkSync(secret, join(vol, "to-file"));
  symlinkSync(outDir, join(vol, "to-dir"));
  symlinkSync("../outside", join(vol, "relative"));
  symlinkSync(join(root, "nowhere"), join(vol, "dangling"));
  const r = await setVolumeOwnership(vol, gid, { readOnly: false });
  assert.equal(r.visited, 5, "the root and its four links, nothing behind them");
  assert.equal(r.failed, 0);
  assert.equal(mode(secret), 0o600, "the file a link points to is not chmod'ed");
  assert.equal(mode(outDir), 0o700, "a linked directory is not entered");
  assert.equal(mode(join(outDir, "inner")), 0o600);
  assert.equal(mode(outside), 0o700);
  assert.ok(lstatSync(join(vol, "to-file")).isSymbolicLink(), "links stay links");
  assert.ok(!existsSync(join(root, "nowhere")), "a dangling link creates nothing");

  // A volume whose root is itself a symlink: nothing behind it is touched.
  symlinkSync(outside, join(root, "vol-link"));
  const viaLink = await setVolumeOwnership(join(root, "vol-link"), gid, { readOnly: false });
  assert.equal(viaLink.visited, 1);
  assert.equal(mode(outside), 0o700);
  assert.equal(mode(secret), 0o600);
});

test("OnRootMismatch: skipped when the root has the group, group rwx and setgid; walked when any of them is missing; Always walks", async (t) => {
  const vol = dir(join(scratch(t), "vol"), 0o2770);
  const inner = file(join(vol, "f"), 0o600);
  assert.equal(await rootNeedsChange(vol, gid, false), false);
  assert.equal(await rootNeedsChange(vol, gid + 1, false), true, "another group");
  const skipped = await setVolumeOwnership(vol, gid, { readOnly: false, policy: "OnRootMismatch" });
  assert.deepEqual(skipped, { skipped: true, visited: 0, failed: 0, failures: [] });
  assert.equal(mode(inner), 0o600, "not walked");

  for (const rootMode of [0o770, 0o2750, 0o2700]) {
    chmodSync(vol, rootMode);
    chmodSync(inner, 0o600);
    assert.equal(await rootNeedsChange(vol, gid, false), true, rootMode.toString(8));
    const r = await setVolumeOwnership(vol, gid, { readOnly: false, policy: "OnRootMismatch" });
    assert.equal(r.skipped, false, `root ${rootMode.toString(8)} is walked`);
    assert.equal(mode(inner), 0o660);
  }
  // For a read-only volume group r-x is enough.
  chmodSync(vol, 0o2750);
  assert.equal(await rootNeedsChange(vol, gid, true), false);

  chmodSync(inner, 0o600);
  const always = await setVolumeOwnership(vol, gid, { readOnly: false, policy: "Always" });
  assert.equal(always.skipped, false);
  assert.equal(mode(inner), 0o660);
  assert.equal(await rootNeedsChange(join(vol, "missing"), gid, false), true, "a root that cannot be read is walked (and fails there)");
});

test("entries that refuse chown/chmod are counted and named while the walk goes on; an unreadable root fails the walk", async (t) => {
  // procfs sysctl files refuse every change of owner or mode, to root as well (proc_sys_setattr: EPERM).
  const sysctls = "/proc/sys/kernel/random";
  const entries = readdirSync(sysctls).length;
  const r = await setVolumeOwnership(sysctls, 4242, { readOnly: false });
  assert.equal(r.skipped, false);
  assert.equal(r.visited, entries + 1, "every entry visited despite the failures");
  assert.ok(r.failed >= entries + 1, `each entry's chown (and chmod) failed: ${r.failed}`);
  assert.equal(r.failures.length, 5, "only the first few are kept");
  assert.match(r.failures[0]!, /^[a-z_]+: EPERM$/);
  await assert.rejects(setVolumeOwnership(join(scratch(t), "missing"), gid, { readOnly: false }), /ENOENT/);
});
