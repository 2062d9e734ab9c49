// One release number for the node stack: the constant the programs print is
// the version of every workspace package, so a bump cannot miss one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { RELEASE_VERSION } from "../../src/version";

test("RELEASE_VERSION is every workspace package's version", () => {
  const root = new URL("../../../", import.meta.url);
  const { workspaces } = JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as { workspaces: string[] };
  assert.ok(workspaces.length >= 6, `workspaces: ${workspaces.join(", ")}`);
  for (const w of workspaces) {
    const { name, version } = JSON.parse(readFileSync(new URL(`${w}/package.json`, root), "utf8")) as { name: string; version: string };
    assert.equal(version, RELEASE_VERSION, `${name} (${w}/package.json)`);
  }
});
