#!/usr/bin/env node
// The test command: typecheck, bring up the real node stack (idempotent),
// then run every test file with Node's test runner through tsx.
//   node scripts/run-tests.mjs            all tests (needs root for the stack)
//   node scripts/run-tests.mjs --unit     unit tests only (no root, no stack)
//   node scripts/run-tests.mjs FILE...    just these files (stack brought up)
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const args = process.argv.slice(2);
const unitOnly = args.includes("--unit");
const explicit = args.filter((a) => !a.startsWith("--"));

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
  : ["proto", "agent", "cni-plugin", "csi-driver", "stand-ins"].flatMap((w) => {
      try { return findTests(join(root, w, "test")); } catch { return []; }
    });
if (unitOnly) files = files.filter((f) => f.includes("/unit/"));
else run("bash", ["scripts/node-stack/up.sh"]);
files.sort();
if (files.length === 0) { console.error("run-tests: no test files found"); process.exit(1); }
// Integration tests share one containerd and the host's network/mount tables:
// run files one at a time so their assertions about "nothing left" hold.
run(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=1", "--test-reporter=spec", ...files]);
