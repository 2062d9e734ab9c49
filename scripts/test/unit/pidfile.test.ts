// node-stack/env.sh's `ours` and `stop_pidfile`: a pid file left in /run by
// an earlier boot (a machine started from a snapshot) can name a live,
// unrelated process once pids are reused. CI went red on exactly that: the
// OVN northbound db was "running", so it was never started.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const envSh = new URL("../../node-stack/env.sh", import.meta.url).pathname;
const sh = (script: string, ...args: string[]) =>
  spawnSync("bash", ["-c", `. "$0"; ${script}`, envSh, ...args], { encoding: "utf8" });

function withStranger(fn: (pid: number, dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "pidfile-"));
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  try { fn(child.pid!, dir); } finally { child.kill("SIGKILL"); rmSync(dir, { recursive: true, force: true }); }
}

test("a pid file written after its process started names that process", () => withStranger((pid, dir) => {
  const f = join(dir, "d.pid");
  writeFileSync(f, `${pid}\n`);
  assert.equal(sh('ours "$1"', f).status, 0);
}));

test("a pid file older than the live process it names is not ours (a reused pid)", () => withStranger((pid, dir) => {
  const f = join(dir, "d.pid");
  writeFileSync(f, `${pid}\n`);
  const old = new Date(Date.now() - 15 * 60_000);
  utimesSync(f, old, old);
  assert.notEqual(sh('ours "$1"', f).status, 0);
}));

test("missing, empty, garbage and dead pid files are not ours", () => withStranger((_pid, dir) => {
  const f = join(dir, "d.pid");
  assert.notEqual(sh('ours "$1"', f).status, 0, "missing");
  for (const body of ["", "abc\n", "1; rm -rf /\n", "99999999\n"]) {
    writeFileSync(f, body);
    assert.notEqual(sh('ours "$1"', f).status, 0, JSON.stringify(body));
  }
}));

test("stop_pidfile leaves a stranger alive and drops the stale file; stops its own process", () => withStranger((pid, dir) => {
  const stale = join(dir, "stale.pid");
  writeFileSync(stale, `${pid}\n`);
  const old = new Date(Date.now() - 15 * 60_000);
  utimesSync(stale, old, old);
  assert.equal(sh('stop_pidfile "$1"; [ ! -e "$1" ]', stale).status, 0);
  assert.doesNotThrow(() => process.kill(pid, 0), "the stranger must survive");

  const own = join(dir, "own.pid");
  const r = sh('sleep 60 & echo $! > "$1"; p=$!; stop_pidfile "$1"; [ ! -e "$1" ] && ! kill -0 "$p" 2>/dev/null', own);
  assert.equal(r.status, 0, r.stderr);
}));
