// VERSION (and CHECK) must not load gRPC: run one invocation in a fresh
// process and look at which modules it loaded. STATUS is the control that
// proves the probe would see gRPC if it were loaded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";

const runTs = new URL("../../src/run.ts", import.meta.url).href;
const probe = (env: Record<string, string>, stdin: string): string[] => {
  const script = `
    import { createRequire } from "node:module";
    const { run } = await import(${JSON.stringify(runTs)});
    await run(${JSON.stringify(env)}, ${JSON.stringify(stdin)});
    const cache = createRequire(import.meta.url).cache;
    console.log(JSON.stringify(Object.keys(cache).filter((k) => k.includes("@grpc"))));
    process.exit(0);`;
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return JSON.parse(out.trim().split("\n").at(-1) as string) as string[];
};

test("VERSION loads no gRPC module; STATUS does", () => {
  assert.deepEqual(probe({ CNI_COMMAND: "VERSION" }, ""), []);
  const conf = JSON.stringify({ cniVersion: "1.1.0", name: "n", type: "novanet", novanet: { server_addr: "127.0.0.1:1", timeout_ms: 200 } });
  assert.ok(probe({ CNI_COMMAND: "STATUS" }, conf).length > 0, "probe sees gRPC once it is loaded");
});
