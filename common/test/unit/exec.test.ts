import { test } from "node:test";
import assert from "node:assert/strict";
import { ExecError, run } from "../../src/exec";

test("run passes arguments as they are (no shell) and feeds stdin", async () => {
  const { stdout } = await run("printf", ["%s|", "a b", "$(id)", ";rm -rf /"]);
  assert.equal(stdout, "a b|$(id)|;rm -rf /|");
  assert.equal((await run("cat", [], { input: "from stdin" })).stdout, "from stdin");
});

test("a failing command keeps its exit code, stdout and stderr", async () => {
  const err = await run("sh", ["-c", "echo out; echo bad thing >&2; exit 3"]).catch((e: unknown) => e);
  assert.ok(err instanceof ExecError);
  assert.equal(err.exitCode, 3);
  assert.equal(err.reason, "exit");
  assert.equal(err.stdout, "out\n");
  assert.equal(err.stderr, "bad thing\n");
  assert.equal(err.code, "Internal");
  assert.match(err.message, /sh failed \(exit 3\): bad thing/);
});

test("a missing command is NotFound; a hung one is killed at its deadline", async () => {
  const missing = await run("/nonexistent/tool", []).catch((e: unknown) => e);
  assert.ok(missing instanceof ExecError);
  assert.equal(missing.code, "NotFound");
  const started = Date.now();
  const hung = await run("sleep", ["30"], { timeoutMs: 200 }).catch((e: unknown) => e);
  assert.ok(hung instanceof ExecError);
  assert.equal(hung.code, "DeadlineExceeded");
  assert.ok(Date.now() - started < 10_000);
});

test("a command flooding its output is killed at the cap, not buffered without end", async () => {
  const err = await run("yes", [], { maxOutputBytes: 1 << 16 }).catch((e: unknown) => e);
  assert.ok(err instanceof ExecError);
  assert.equal(err.reason, "output-limit");
  assert.ok(err.stdout.length <= 1 << 16);
});
