// Each verb's import graph, as the bundler sees it (the executable
// initialises a verb's modules only when that verb runs): nothing a verb
// does not need. No verb reaches the generated NovaNET code, its protobuf
// runtime, grpc-js or node:http2; VERSION and CHECK reach no NovaNET client;
// DEL reaches none of attaching (attach.ts, bridge.ts, the netns side) and
// none of the other verbs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { build } from "esbuild";

const src = new URL("../../src/", import.meta.url).pathname;

async function graph(entry: string): Promise<{ files: string[]; builtins: string[] }> {
  const r = await build({ entryPoints: [`${src}${entry}`], bundle: true, platform: "node", format: "esm", write: false, metafile: true, logLevel: "silent" });
  const files = Object.keys(r.metafile.inputs).map((f) => f.replace(/^.*?cni-plugin\/src\//, "src/"));
  const builtins = Object.values(r.metafile.inputs).flatMap((i) => i.imports.filter((x) => x.external).map((x) => x.path.replace(/^node:/, "")));
  return { files, builtins: [...new Set(builtins)] };
}

const heavy = /proto\/gen\/|@bufbuild\/|@grpc\//;

test("no verb reaches the generated code, grpc-js or node:http2", async () => {
  for (const v of ["add", "del", "check", "version", "status", "gc"]) {
    const g = await graph(`verbs/${v}.ts`);
    assert.deepEqual(g.files.filter((f) => heavy.test(f)), [], v);
    assert.ok(!g.builtins.includes("http2"), `${v} imports node:http2`);
    assert.ok(!g.files.some((f) => /src\/verbs\//.test(f) && !f.endsWith(`verbs/${v}.ts`) && !f.endsWith("verbs/common.ts") && !(v === "gc" && f.endsWith("verbs/del.ts"))),
      `${v} imports another verb: ${g.files.filter((f) => f.includes("src/verbs/")).join(", ")}`);
  }
});

test("VERSION is result.ts alone; CHECK has no NovaNET client", async () => {
  assert.deepEqual((await graph("verbs/version.ts")).files.sort(), ["src/result.ts", "src/verbs/version.ts"]);
  const check = await graph("verbs/check.ts");
  assert.deepEqual(check.files.filter((f) => f.includes("src/novanet/") && !f.endsWith("api.ts")), []);
  assert.ok(!check.builtins.includes("net") && !check.builtins.includes("tls"));
});

test("DEL loads nothing of attaching", async () => {
  const del = await graph("verbs/del.ts");
  for (const f of ["src/plumbing/attach.ts", "src/plumbing/bridge.ts", "src/plumbing/netns.ts", "src/result.ts"]) {
    assert.ok(!del.files.includes(f), `DEL imports ${f}`);
  }
  // What it does need: the client, the cache, the veth's name and alias, ip.
  for (const f of ["src/novanet/client.ts", "src/cache/cache.ts", "src/plumbing/names.ts", "src/plumbing/detach.ts"]) {
    assert.ok(del.files.includes(f), `DEL lacks ${f}`);
  }
});
