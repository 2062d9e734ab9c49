// The generated code must be what the .proto sources produce today: a stale
// proto/gen means the wire contract and the code disagree.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const protoDir = new URL("../..", import.meta.url).pathname;

function listTs(dir: string, base = dir, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) listTs(p, base, out);
    else if (name.endsWith(".ts")) out.push(relative(base, p));
  }
  return out.sort();
}

test("proto/gen matches a fresh generation from the .proto sources", () => {
  const tmp = mkdtempSync(join(tmpdir(), "gen-"));
  try {
    execFileSync("bash", [join(protoDir, "scripts/gen.sh"), tmp], { stdio: "pipe" });
    const committed = listTs(join(protoDir, "gen"));
    const fresh = listTs(tmp);
    assert.deepEqual(committed, fresh, "generated file set differs: run `npm run gen`");
    for (const f of fresh) {
      const a = readFileSync(join(protoDir, "gen", f), "utf8");
      const b = readFileSync(join(tmp, f), "utf8");
      assert.ok(a === b, `proto/gen/${f} is stale: run \`npm run gen\``);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
