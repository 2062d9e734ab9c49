// src/plumbing/exec.ts under Node (the built executable runs the same code
// on Bun.spawn; the integration tests drive that): start() keeps stdin open,
// output() says the command has answered, end() keeps common/exec's
// contract (exit code, stdout, stderr in an ExecError; argument arrays).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ExecError } from "@plasmacloud/common/errors";
import { run, start } from "../../src/plumbing/exec.js";

test("start(): fed bit by bit, answers in between, ends like run()", async () => {
  const p = start("sh", ["-c", 'read a; echo "got $a"; read b; echo "then $b"']);
  p.write("one\n");
  await p.output(); // before the second line is even written
  p.write("two\n");
  assert.deepEqual(await p.end(), { stdout: "got one\nthen two\n", stderr: "" });
});

test("start(): a failure is an ExecError with code and stderr; output() rejects if none came", async () => {
  const p = start("sh", ["-c", 'read a; echo "bad: $a" >&2; exit 3']);
  p.write("x;rm -rf /\n"); // data, never a shell command line of ours
  await assert.rejects(p.output(), (e: unknown) => e instanceof ExecError && e.exitCode === 3 && e.stderr === "bad: x;rm -rf /\n");
  await assert.rejects(p.end(), (e: unknown) => e instanceof ExecError && e.exitCode === 3);
  await assert.rejects(start("/nonexistent/tool", []).end(), (e: unknown) => e instanceof ExecError && e.reason === "not-found");
});

test("run() passes arguments as they are and input on stdin", async () => {
  assert.equal((await run("printf", ["%s|", "a b", "$HOME", "; echo x"])).stdout, "a b|$HOME|; echo x|");
  assert.equal((await run("cat", [], { input: "in\n" })).stdout, "in\n");
});
