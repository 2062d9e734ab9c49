// hostPath prefixes/realpath/types, subPath confinement and the projection
// payload rules, on real temp directories and symlinks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildConfig } from "../../src/config/schema";
import { HostPathPolicy } from "../../src/volumes/hostpath";
import { makePayload } from "../../src/volumes/projected";
import { resolveSubPath } from "../../src/volumes/subpath";
import { VolumeError } from "../../src/volumes/types";

function scratch(t: { after(fn: () => void): void }): string {
  const d = realpathSync(mkdtempSync(join(tmpdir(), "volchk-")));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test("hostPath: refused without prefixes, outside them, with '..', or through a symlink (also a dangling one)", (t) => {
  const d = scratch(t);
  mkdirSync(join(d, "ok", "sub"), { recursive: true });
  symlinkSync("/etc", join(d, "ok", "to-etc"));
  symlinkSync("/nonexistent-target-dir", join(d, "ok", "dangling"));
  symlinkSync(join(d, "ok", "sub"), join(d, "ok", "inner"));
  assert.match(new HostPathPolicy([]).unsupported({ path: join(d, "ok"), type: "" }) ?? "", /disabled on this node/);
  const p = new HostPathPolicy([join(d, "ok")]);
  assert.match(p.unsupported({ path: "/etc", type: "" }) ?? "", /not under an allowed prefix/);
  assert.match(p.unsupported({ path: join(d, "okay-not"), type: "" }) ?? "", /not under an allowed prefix/, "prefix match is per path component");
  assert.match(p.unsupported({ path: `${d}/ok/../x`, type: "" }) ?? "", /must not contain '\.\.'/);
  assert.match(p.unsupported({ path: join(d, "ok", "to-etc", "passwd"), type: "" }) ?? "", /resolves to '\/etc\/passwd'/);
  assert.match(p.unsupported({ path: join(d, "ok", "dangling", "x"), type: "DirectoryOrCreate" }) ?? "", /resolves to '\/nonexistent-target-dir\/x'/);
  assert.match(p.unsupported({ path: "rel", type: "" }) ?? "", /must be absolute/);
  assert.match(p.unsupported({ path: join(d, "ok"), type: "Socket" }) ?? "", /hostPath.type/);
  assert.equal(p.unsupported({ path: join(d, "ok", "inner"), type: "Directory" }), undefined, "a symlink inside the prefix is fine");
  assert.equal(p.unsupported({ path: join(d, "ok", "new", "deeper"), type: "DirectoryOrCreate" }), undefined);
});

test("hostPath types: Directory/File must exist as such; *OrCreate make them; the resolved path is returned", async (t) => {
  const d = scratch(t);
  mkdirSync(join(d, "ok"));
  writeFileSync(join(d, "ok", "file"), "x");
  symlinkSync(join(d, "ok", "file"), join(d, "ok", "link"));
  const p = new HostPathPolicy([join(d, "ok")]);
  await assert.rejects(p.setUp("v", { path: join(d, "ok", "missing"), type: "Directory" }), (e: unknown) => e instanceof VolumeError && e.reason === "FailedMount" && /does not exist/.test(e.message));
  await assert.rejects(p.setUp("v", { path: join(d, "ok", "file"), type: "Directory" }), /is not a directory/);
  await assert.rejects(p.setUp("v", { path: join(d, "ok"), type: "File" }), /is not a file/);
  await assert.rejects(p.setUp("v", { path: join(d, "ok", "nodir", "f"), type: "FileOrCreate" }), /parent directory does not exist/);
  assert.equal(await p.setUp("v", { path: join(d, "ok", "a", "b"), type: "DirectoryOrCreate" }), join(d, "ok", "a", "b"));
  assert.ok(statSync(join(d, "ok", "a", "b")).isDirectory());
  assert.equal(await p.setUp("v", { path: join(d, "ok", "new-file"), type: "FileOrCreate" }), join(d, "ok", "new-file"));
  assert.ok(statSync(join(d, "ok", "new-file")).isFile());
  assert.equal(await p.setUp("v", { path: join(d, "ok", "link"), type: "File" }), join(d, "ok", "file"), "bind the resolved path");
});

test("subPath stays inside its volume, is created when missing, and resolves symlinks first", async (t) => {
  const d = scratch(t);
  const vol = join(d, "vol");
  mkdirSync(join(vol, "in"), { recursive: true });
  symlinkSync("/etc", join(vol, "out"));
  symlinkSync("/nonexistent-x", join(vol, "dangling"));
  symlinkSync("in", join(vol, "rel"));
  assert.equal(await resolveSubPath(vol, "a/b", "v"), join(vol, "a", "b"));
  assert.ok(statSync(join(vol, "a", "b")).isDirectory());
  assert.equal(await resolveSubPath(vol, "rel", "v"), join(vol, "in"));
  await assert.rejects(resolveSubPath(vol, "out", "v"), (e: unknown) => e instanceof VolumeError && e.reason === "CreateContainerConfigError");
  await assert.rejects(resolveSubPath(vol, "out/newdir", "v"), /outside the volume/);
  await assert.rejects(resolveSubPath(vol, "dangling/x", "v"), /outside the volume/);
  await assert.rejects(resolveSubPath(vol, "../x", "v"), /without '\.\.'/);
});

test("projection payload: all keys with defaultMode, or the listed items; missing keys fail unless optional", () => {
  const data = new Map([["a", Buffer.from("1")], ["b", Buffer.from("2")]]);
  const all = makePayload([], data, undefined, false);
  assert.ok(all instanceof Map);
  assert.deepEqual([...all.entries()].map(([k, v]) => [k, v.mode]), [["a", 0o644], ["b", 0o644]]);
  const some = makePayload([{ key: "b", path: "x/y", mode: 0o600 }, { key: "a", path: "z", mode: undefined }], data, 0o640, false);
  assert.ok(some instanceof Map);
  assert.deepEqual([...some.entries()].map(([k, v]) => [k, v.mode]), [["x/y", 0o600], ["z", 0o640]]);
  assert.match(String(makePayload([{ key: "nope", path: "n", mode: undefined }], data, undefined, false)), /non-existent key nope/);
  const opt = makePayload([{ key: "nope", path: "n", mode: undefined }], data, undefined, true);
  assert.ok(opt instanceof Map && opt.size === 0);
});

test("config: the volumes section has defaults and field-named errors", () => {
  const base = { nodeName: "n1" };
  assert.deepEqual(buildConfig(base).volumes, { hostPathPrefixes: [], pluginsRegistryDir: "", csiTimeoutSeconds: 120, csiFSGroupPolicy: {} });
  assert.deepEqual(buildConfig(base, { volumes: { hostPathPrefixes: ["/srv/data"] } }).volumes.hostPathPrefixes, ["/srv/data"]);
  assert.throws(() => buildConfig(base, { volumes: { hostPathPrefixes: ["relative"] } }), /config field 'volumes.hostPathPrefixes\[0\]'/);
  assert.throws(() => buildConfig(base, { volumes: { hostPathPrefixes: ["/a/../etc"] } }), /volumes.hostPathPrefixes\[0\]/);
  assert.throws(() => buildConfig(base, { volumes: { csiTimeoutSeconds: 0 } }), /config field 'volumes.csiTimeoutSeconds'/);
  assert.throws(() => buildConfig(base, { volumes: { pluginsRegistryDir: "x" } }), /config field 'volumes.pluginsRegistryDir'/);
  assert.throws(() => buildConfig(base, { volumes: { hostPathPrefix: [] } }), /config field 'volumes.hostPathPrefix': unknown field/);
});
