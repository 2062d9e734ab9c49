// Container log rotation on real files with a fake runtime whose
// ReopenContainerLog does what containerd's does: a fresh file at the path.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { createLogger } from "../../src/observe/logger";
import { ContainerLogManager, runningLogs } from "../../src/logs/manager";
import { rotateIfDue, rotationStamp, type LogReopener } from "../../src/logs/rotate";
import type { PodRuntimeState } from "../../src/runtime/types";

class FakeRuntime implements LogReopener {
  calls: string[] = [];
  failing = false;
  constructor(private readonly paths: Map<string, string>) {}
  async reopenContainerLog(id: string): Promise<void> {
    this.calls.push(id);
    if (this.failing) throw new Error("container is not running");
    const path = this.paths.get(id);
    if (!path) throw new Error(`container ${id} not found`);
    writeFileSync(path, "", { flag: "a" });
  }
}

function setup(t: { after: (fn: () => void) => void }, ids = ["c1"]): { dir: string; path: (id: string) => string; runtime: FakeRuntime } {
  const dir = mkdtempSync(join(tmpdir(), "logs-rotate-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const paths = new Map(ids.map((id) => [id, join(dir, id, "0.log")]));
  for (const p of paths.values()) {
    mkdirSync(join(p, ".."));
    writeFileSync(p, "");
  }
  return { dir, path: (id) => paths.get(id)!, runtime: new FakeRuntime(paths) };
}

const policy = { maxSizeBytes: 100, maxFiles: 3 };
const second = (n: number): Date => new Date(2024, 0, 2, 3, 4, n);
const listing = (path: string): string[] => readdirSync(join(path, "..")).sort();

test("below the limit nothing happens; at the limit: renamed with the kubelet's stamp, reopened, a fresh live file", async (t) => {
  const { path, runtime } = setup(t);
  writeFileSync(path("c1"), "x".repeat(99));
  assert.equal(await rotateIfDue("c1", path("c1"), policy, runtime, second(1)), false);
  assert.deepEqual(runtime.calls, []);
  writeFileSync(path("c1"), "y".repeat(100));
  assert.equal(await rotateIfDue("c1", path("c1"), policy, runtime, second(1)), true);
  assert.equal(rotationStamp(second(1)), "20240102-030401");
  assert.deepEqual(listing(path("c1")), ["0.log", "0.log.20240102-030401"]);
  assert.equal(readFileSync(`${path("c1")}.20240102-030401`, "utf8"), "y".repeat(100));
  assert.equal(readFileSync(path("c1"), "utf8"), "");
  assert.deepEqual(runtime.calls, ["c1"]);
});

test("many rotations: at most maxFiles files, the newest rotated one plain, older ones gzipped with their bytes", async (t) => {
  const { path, runtime } = setup(t);
  for (let i = 0; i < 6; i++) {
    writeFileSync(path("c1"), `round ${i} `.repeat(20));
    assert.equal(await rotateIfDue("c1", path("c1"), policy, runtime, second(i)), true);
  }
  const files = listing(path("c1"));
  assert.equal(files.length, 3, files.join(" "));
  assert.deepEqual(files, ["0.log", "0.log.20240102-030404.gz", "0.log.20240102-030405"]);
  assert.equal(gunzipSync(readFileSync(`${path("c1")}.20240102-030404.gz`)).toString(), "round 4 ".repeat(20));
  assert.equal(readFileSync(`${path("c1")}.20240102-030405`, "utf8"), "round 5 ".repeat(20));
  // maxFiles 2: the live file and one rotated file.
  writeFileSync(path("c1"), "z".repeat(200));
  await rotateIfDue("c1", path("c1"), { maxSizeBytes: 100, maxFiles: 2 }, runtime, second(10));
  assert.deepEqual(listing(path("c1")), ["0.log", "0.log.20240102-030410"]);
});

test("a failed reopen renames the file back: nothing lost, the next round rotates", async (t) => {
  const { path, runtime } = setup(t);
  writeFileSync(path("c1"), "precious ".repeat(20));
  runtime.failing = true;
  await assert.rejects(rotateIfDue("c1", path("c1"), policy, runtime, second(1)), /rotation undone: container is not running/);
  assert.deepEqual(listing(path("c1")), ["0.log"]);
  assert.equal(readFileSync(path("c1"), "utf8"), "precious ".repeat(20));
  runtime.failing = false;
  assert.equal(await rotateIfDue("c1", path("c1"), policy, runtime, second(2)), true);
  assert.deepEqual(listing(path("c1")), ["0.log", "0.log.20240102-030402"]);
});

test("leftovers of an interrupted rotation go; a lost live file is reopened; no second rotation within one second", async (t) => {
  const { path, runtime } = setup(t);
  const p = path("c1");
  writeFileSync(`${p}.20240101-000000.tmp`, "half a gzip");
  writeFileSync(`${p}.20240101-000001`, "already compressed");
  writeFileSync(`${p}.20240101-000001.gz`, "gz");
  writeFileSync(p, "x".repeat(100));
  await rotateIfDue("c1", p, { maxSizeBytes: 100, maxFiles: 5 }, runtime, second(1));
  assert.deepEqual(listing(p), ["0.log", "0.log.20240101-000001.gz", "0.log.20240102-030401"]);
  writeFileSync(p, "x".repeat(100));
  assert.equal(await rotateIfDue("c1", p, policy, runtime, second(1)), false, "same second: waits for the next round");
  rmSync(p);
  runtime.calls = [];
  assert.equal(await rotateIfDue("c1", p, policy, runtime, second(3)), false);
  assert.deepEqual(runtime.calls, ["c1"], "the missing live file was reopened");
  assert.ok(existsSync(p));
});

test("the manager: one container's failure holds back no other; running containers come from the relist", async (t) => {
  const { path, runtime } = setup(t, ["c1", "c2"]);
  for (const id of ["c1", "c2"]) writeFileSync(path(id), "x".repeat(150));
  const logged: string[] = [];
  const log = createLogger("warn", (line) => logged.push(line));
  const running = [
    { containerId: "gone", path: join(path("c1"), "..", "..", "nowhere", "0.log") },
    { containerId: "c1", path: path("c1") },
    { containerId: "c2", path: path("c2") },
  ];
  const m = new ContainerLogManager({ running: async () => running, runtime, policy, intervalMs: 10, log });
  await m.rotateAll(() => second(7));
  for (const id of ["c1", "c2"]) assert.deepEqual(listing(path(id)), ["0.log", "0.log.20240102-030407"], id);
  await m.rotateAll(() => second(8));
  const failures = logged.filter((l) => l.includes("rotation failed"));
  assert.equal(failures.length, 1, "a failure that repeats is logged once");
  assert.match(failures[0]!, /"containerId":"gone".*container gone not found/);

  const pod = { uid: "u1", name: "web", namespace: "ns", orgId: "o", projectId: "p" };
  const state: PodRuntimeState = {
    sandboxes: [{ id: "s1", podUid: "u1", pod, attempt: 0, ready: true, createdAt: 1, ip: "", netnsPath: "" }],
    containers: ["running", "exited"].map((st, i) => ({ id: `k${i}`, sandboxId: "s1", podUid: "u1", name: `c${i}`, attempt: 2, state: st as "running", createdAt: 1, startedAt: 1, finishedAt: 0, exitCode: 0, reason: "", message: "", image: "", imageRef: "" })),
  };
  const got = await runningLogs({ relist: async () => new Map([["u1", state]]) }, "/var/log/pods");
  assert.deepEqual(got, [{ containerId: "k0", path: "/var/log/pods/ns_web_u1/c0/2.log" }]);
  // A recent view of the pod relist is used instead of a relist of its own; a stale one (undefined) is not.
  let relists = 0;
  const counting = { relist: async () => (relists++, new Map([["u1", state]])) };
  assert.deepEqual(await runningLogs(counting, "/var/log/pods", () => new Map([["u1", state]])), got);
  assert.equal(relists, 0, "the cached view made no relist");
  assert.deepEqual(await runningLogs(counting, "/var/log/pods", () => undefined), got);
  assert.equal(relists, 1, "without a recent view it relists");
});
