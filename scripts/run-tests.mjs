#!/usr/bin/env node
// The test command: typecheck, bring up the real node stack (idempotent),
// then run every test file with Node's test runner through tsx.
//   node scripts/run-tests.mjs            all tests (needs root for the stack)
//   node scripts/run-tests.mjs --unit     unit tests only (no root, no stack)
//   node scripts/run-tests.mjs FILE...    just these files (stack brought up)
// Before the tests, scripts/clear-test-leftovers.ts removes the pods an
// interrupted earlier run left. The whole suite ends with
// scripts/leak-check.ts: anything the run added to the host (sandboxes, netns,
// links, OVS ports, loop devices, mounts, state and temp files, processes)
// fails it.
import { spawnSync } from "node:child_process";
import { readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const args = process.argv.slice(2);
const unitOnly = args.includes("--unit");
const explicit = args.filter((a) => !a.startsWith("--"));

// The node stack is one per machine: a suite run holds the lock that benches
// and single test files take (`flock /tmp/plasma-it.lock ...`), so none of them
// runs into it. -o: the lock stays with flock, not with the daemons we start.
if (!unitOnly && !process.env.PLASMA_IT_LOCKED && spawnSync("flock", ["--version"]).status === 0) {
  const r = spawnSync("flock", ["-o", "/tmp/plasma-it.lock", process.execPath, ...process.argv.slice(1)], { stdio: "inherit", env: { ...process.env, PLASMA_IT_LOCKED: "1" } });
  process.exit(r.status ?? 1);
}

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { stdio: "inherit", cwd: root, ...opts });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function findTests(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) findTests(p, out);
    else if (name.endsWith(".test.ts")) out.push(relative(root, p));
  }
  return out;
}

run("npx", ["tsc", "-p", "tsconfig.json", "--noEmit"]);
let files = explicit.length ? explicit
  : ["common", "proto", "agent", "cni-plugin", "csi-driver", "stand-ins", "packaging", "nix", "scripts"].flatMap((w) => {
      try { return findTests(join(root, w, "test")); } catch { return []; }
    });
if (unitOnly) files = files.filter((f) => f.includes("/unit/"));
else {
  run("bash", ["scripts/node-stack/up.sh"]);
  // Pods of an interrupted earlier run hold IPs the new clusters hand out again.
  run(process.execPath, ["--import", "tsx", "scripts/clear-test-leftovers.ts"]);
}
files.sort();
if (files.length === 0) { console.error("run-tests: no test files found"); process.exit(1); }
// A whole-suite run is checked at its end, from outside, for anything left behind.
const leakCheck = !unitOnly && explicit.length === 0;
const snapshot = join(tmpdir(), `leak-snapshot-${process.pid}.json`);
if (leakCheck) run(process.execPath, ["--import", "tsx", "scripts/leak-check.ts", "snapshot", snapshot]);
// Integration tests share one containerd and the host's network/mount tables:
// run files one at a time so their assertions about "nothing left" hold.
const tests = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=1", "--test-reporter=spec", ...files], { stdio: "inherit", cwd: root });
if (leakCheck) {
  const leaks = spawnSync(process.execPath, ["--import", "tsx", "scripts/leak-check.ts", "compare", snapshot], { stdio: "inherit", cwd: root });
  rmSync(snapshot, { force: true });
  if (leaks.status !== 0) process.exit(1);
}
process.exit(tests.status ?? 1);
