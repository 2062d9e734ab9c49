// emptyDir on the node's disk: made world-writable and, with fsGroup,
// group-owned once; what the pod does to it afterwards is left alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EmptyDirVolumeSource } from "@plasmacloud/proto/k8shost";
import { setUpEmptyDir } from "../../src/volumes/emptydir";

test("set up once: 0777 whatever the umask, fsGroup with setgid; a later sync keeps the pod's own changes", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "ed-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, "kubernetes.io~empty-dir", "data");
  const gid = process.getgid!(); // the test's own group: no privilege needed
  const old = process.umask(0o077);
  try {
    await setUpEmptyDir(dir, EmptyDirVolumeSource.fromPartial({}), gid);
  } finally {
    process.umask(old);
  }
  assert.equal(statSync(dir).mode & 0o7777, 0o2777);
  assert.equal(statSync(dir).gid, gid);
  assert.ok(existsSync(`${dir}.ready`));
  chmodSync(dir, 0o700); // the pod's choice
  writeFileSync(join(dir, "f"), "x", { mode: 0o600 });
  await setUpEmptyDir(dir, EmptyDirVolumeSource.fromPartial({}), gid);
  assert.equal(statSync(dir).mode & 0o7777, 0o700, "not reset on the next sync");
  assert.equal(statSync(join(dir, "f")).mode & 0o777, 0o600);
});
