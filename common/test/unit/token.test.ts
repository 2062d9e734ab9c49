import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CodedError } from "../../src/errors";
import { TokenFile } from "../../src/token";

test("a token file is read, re-read when it changes, and a missing or empty one is Unauthenticated", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "token-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "token");
  const tf = new TokenFile(path, 0);
  assert.throws(() => tf.get(), (e: unknown) => e instanceof CodedError && e.code === "Unauthenticated");
  writeFileSync(path, "first\n");
  assert.equal(tf.get(), "first");
  writeFileSync(path, "second-longer\n");
  assert.equal(tf.get(), "second-longer");
  writeFileSync(path, "");
  assert.throws(() => tf.get(), (e: unknown) => e instanceof CodedError && e.code === "Unauthenticated" && !String(e.message).includes("second"));
});
