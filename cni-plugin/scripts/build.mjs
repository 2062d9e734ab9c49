#!/usr/bin/env node
// Builds ONE executable, dist/novanet:
//   1. esbuild bundles src/main.ts and all it imports (@plasmacloud/common,
//      proto's contracts and generated NovaNET code) into one CJS file;
//   2. if this Node can, that file becomes a single-executable application
//      (node --experimental-sea-config + postject, code cache on);
//   3. otherwise dist/novanet is the bundle itself behind `#!/usr/bin/env node`.
// NOVANET_BUILD=script forces 3 (the bench measures both ways).
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { join } from "node:path";
import { build } from "esbuild";

const pkg = new URL("..", import.meta.url).pathname;
const dist = join(pkg, "dist");
const bundle = join(dist, "novanet.cjs");
const out = join(dist, "novanet");
const require = createRequire(import.meta.url);

// The generated proto module imports @grpc/grpc-js only to build client
// classes we never use (src/novanet/grpc.ts speaks gRPC over node:http2):
// keep that ~1 MB library out of the executable.
const noGrpcJs = {
  name: "no-grpc-js",
  setup(b) {
    b.onResolve({ filter: /^@grpc\/grpc-js$/ }, (a) => ({ path: a.path, namespace: "no-grpc-js" }));
    b.onLoad({ filter: /.*/, namespace: "no-grpc-js" }, () => ({
      loader: "js",
      contents: "export class Client {}\nexport function makeGenericClientConstructor() { return class { constructor() { throw new Error('@grpc/grpc-js is not bundled into novanet'); } }; }\n",
    }));
  },
};

mkdirSync(dist, { recursive: true });
await build({
  plugins: [noGrpcJs],
  entryPoints: [join(pkg, "src/main.ts")],
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  outfile: bundle,
  minify: true,
  keepNames: false,
  legalComments: "none",
  logLevel: "warning",
});
const code = readFileSync(bundle, "utf8");
// A real import() left in the bundle would break a code-cached SEA.
if (/[^.\w]import\(/.test(code)) throw new Error("build: bundle still contains import()");
// A SEA can require only node's builtins: a package left out of the bundle
// (a workspace's exports map esbuild could not follow) must fail here, not at
// a pod's first ADD.
const external = [...code.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]).filter((id) => !id.startsWith("node:") && !builtinModules.includes(id));
if (external.length) throw new Error(`build: bundle requires non-builtin modules: ${[...new Set(external)].join(", ")}`);

function script() {
  // The package is "type": "module"; the bundle is CommonJS, so dist/ says so.
  writeFileSync(join(dist, "package.json"), '{ "type": "commonjs" }\n');
  writeFileSync(out, `#!/usr/bin/env node\n${readFileSync(bundle, "utf8")}`);
  chmodSync(out, 0o755);
  return "script";
}

function sea() {
  const blob = join(dist, "sea-prep.blob");
  const cfg = join(dist, "sea-config.json");
  writeFileSync(cfg, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }));
  execFileSync(process.execPath, ["--experimental-sea-config", cfg], { stdio: "pipe" });
  const tmp = `${out}.tmp`;
  rmSync(tmp, { force: true });
  copyFileSync(process.execPath, tmp);
  chmodSync(tmp, 0o755);
  const postject = join(require.resolve("postject/package.json"), "..", "dist", "cli.js");
  execFileSync(process.execPath, [postject, tmp, "NODE_SEA_BLOB", blob,
    "--sentinel-fuse", "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2"], { stdio: "pipe" });
  // Prove it runs before it replaces anything.
  const v = execFileSync(tmp, [], { env: { CNI_COMMAND: "VERSION" }, input: "" }).toString();
  if (!v.includes("supportedVersions")) throw new Error(`SEA smoke test printed ${v}`);
  execFileSync("mv", ["-f", tmp, out]);
  rmSync(blob, { force: true });
  return "sea";
}

let kind;
if (process.env.NOVANET_BUILD === "script") kind = script();
else {
  try {
    kind = sea();
  } catch (e) {
    console.error(`build: single-executable build failed, falling back to a node script: ${e.message}`);
    kind = script();
  }
}
writeFileSync(join(dist, "BUILD_KIND"), `${kind}\n`);
console.log(`build: ${out} (${kind})`);
