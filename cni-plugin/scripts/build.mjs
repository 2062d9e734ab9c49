#!/usr/bin/env node
// Builds ONE executable, dist/novanet:
//   1. esbuild bundles src/main.ts and all it imports (@plasmacloud/common,
//      proto's contracts) into one CJS file, dist/novanet.cjs;
//   2. that file becomes a standalone executable of the kind asked for
//      (NOVANET_BUILD, default "bun"; README.md has the measurements):
//        bun           `bun build --compile --bytecode` (bun from the npm
//                      package in node_modules; builds offline);
//        sea           a Node single-executable application, code cache on;
//        sea-snapshot  a Node SEA started from a start-up snapshot;
//        script        the bundle behind `#!/usr/bin/env node`.
//      The default falls back to sea, then script, if bun cannot build here.
// NOVANET_OUT=PATH writes the executable there instead (the bench builds
// every kind side by side); dist/BUILD_KIND records the kind of dist/novanet.
// NOVANET_BUNDLE=FILE packages that CJS bundle instead of building one (the
// bench packages an older revision's bundle the same way).
// NOVANET_ARCH=arm64 cross-compiles with bun (its linux-aarch64 runtime comes
// from the npm registry, so this builds offline too); the smoke run then goes
// through qemu-aarch64-static when the host has it, else it is skipped.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { dirname, join } from "node:path";
import { build } from "esbuild";

const pkg = new URL("..", import.meta.url).pathname;
const dist = join(pkg, "dist");
const bundle = join(dist, "novanet.cjs");
const defaultOut = join(dist, "novanet");
const out = process.env.NOVANET_OUT || defaultOut;
const require = createRequire(import.meta.url);
const KINDS = ["bun", "sea", "sea-snapshot", "script"];

mkdirSync(dist, { recursive: true });
mkdirSync(dirname(out), { recursive: true });
const code = process.env.NOVANET_BUNDLE ? readFileSync(process.env.NOVANET_BUNDLE, "utf8") : await bundleSources();

async function bundleSources() {
  const r = await build({
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
    metafile: true,
  });
  const text = readFileSync(bundle, "utf8");
  // A real import() left in the bundle would break a code-cached SEA.
  if (/[^.\w]import\(/.test(text)) throw new Error("build: bundle still contains import()");
  // A standalone executable can require only the runtime's builtins: a package
  // left out of the bundle (a workspace's exports map esbuild could not follow)
  // must fail here, not at a pod's first ADD.
  const external = [...text.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]).filter((id) => !id.startsWith("node:") && !builtinModules.includes(id));
  if (external.length) throw new Error(`build: bundle requires non-builtin modules: ${[...new Set(external)].join(", ")}`);
  // The import graph stays trimmed (README.md): NovaNET's messages are encoded
  // by hand (src/novanet/wire.ts) and HTTP/2 spoken by h2.ts, so neither the
  // generated code, its protobuf runtime, grpc-js nor node:http2 may creep back.
  const inputs = Object.keys(r.metafile.inputs);
  const heavy = inputs.filter((i) => /proto\/gen\/|@bufbuild\/|@grpc\//.test(i));
  if (heavy.length) throw new Error(`build: bundle includes ${heavy.join(", ")}`);
  if (/require\("(node:)?http2"\)/.test(text)) throw new Error("build: bundle loads node:http2");
  return text;
}

const ARCH = process.env.NOVANET_ARCH || process.arch;
if (ARCH !== "x64" && ARCH !== "arm64") throw new Error(`build: NOVANET_ARCH must be x64 or arm64, got ${ARCH}`);
const cross = ARCH !== process.arch;
const QEMU = "/usr/bin/qemu-aarch64-static";

/** Runs the candidate once (VERSION) before it replaces anything. */
function smoke(bin) {
  if (cross && !existsSync(QEMU)) return console.error(`build: ${bin} is for ${ARCH}: no ${QEMU} here to run it, smoke run skipped`);
  const [cmd, args] = cross ? [QEMU, [bin]] : [bin, []];
  // Debian's libc6-arm64-cross holds the aarch64 loader and libc bun's runtime links against.
  const env = cross ? { CNI_COMMAND: "VERSION", QEMU_LD_PREFIX: "/usr/aarch64-linux-gnu" } : { CNI_COMMAND: "VERSION" };
  const v = execFileSync(cmd, args, { env, input: "" }).toString();
  if (!v.includes("supportedVersions")) throw new Error(`smoke test of ${bin} printed ${v}`);
}

function install(tmp) {
  smoke(tmp);
  renameSync(tmp, out);
}

function script(tmp) {
  // The package is "type": "module"; the bundle is CommonJS, so its directory says so.
  writeFileSync(join(dirname(out), "package.json"), '{ "type": "commonjs" }\n');
  writeFileSync(tmp, `#!/usr/bin/env node\n${code}`);
  chmodSync(tmp, 0o755);
}

/** The bun executable of the npm package `bun` (its postinstall moves it to bin/; without it, the platform package holds it). */
function bunBinary() {
  const candidates = [];
  try {
    candidates.push(join(dirname(require.resolve("bun/package.json")), "bin", "bun.exe"));
  } catch { /* not installed */ }
  const libc = process.report?.getReport?.().header?.glibcVersionRuntime ? "" : "-musl";
  for (const variant of ["", "-baseline"]) {
    try {
      candidates.push(join(dirname(require.resolve(`@oven/bun-${process.platform}-${process.arch === "arm64" ? "aarch64" : "x64"}${libc}${variant}/package.json`)), "bin", "bun"));
    } catch { /* not this platform's package */ }
  }
  for (const c of candidates) {
    if (!existsSync(c)) continue;
    try {
      if (/^\d+\.\d+\.\d+/.test(execFileSync(c, ["--version"], { stdio: "pipe" }).toString())) return c;
    } catch { /* the placeholder of a package whose postinstall did not run */ }
  }
  throw new Error("no runnable bun in node_modules (npm install -w cni-plugin)");
}

function bun(tmp) {
  const bunExe = bunBinary();
  const entry = join(dist, "novanet-bun-entry.cjs");
  writeFileSync(entry, code);
  try {
    // Compiling for the host needs nothing but this bun (no download). The
    // executable must not read a .env or bunfig.toml from the runtime's cwd.
    // JIT tier-up 1000x later: a verb lives ~20 ms, and JIT threads compiling
    // code that is about to exit cost it ~2 ms of a 2-core node's CPU
    // (README.md); a long GC loop still gets compiled.
    const target = cross ? `--target=bun-linux-${ARCH === "arm64" ? "aarch64" : "x64"}` : "--target=bun";
    execFileSync(bunExe, ["build", "--compile", "--bytecode", "--format=cjs", target, "--compile-jit-policy=1000",
      "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig", "--no-compile-autoload-tsconfig", "--no-compile-autoload-package-json",
      entry, "--outfile", tmp], { stdio: "pipe", cwd: dist, env: { ...process.env, BUN_INSTALL_CACHE_DIR: join(dist, ".bun-cache"), DO_NOT_TRACK: "1" } });
  } finally {
    rmSync(entry, { force: true });
  }
}

function seaBlob(snapshot) {
  const blob = join(dist, "sea-prep.blob");
  const cfg = join(dist, "sea-config.json");
  let main = process.env.NOVANET_BUNDLE || bundle;
  if (snapshot) {
    // The process starts from Node's snapshot with the bundle's function in
    // it and runs the bundle from there. Running the module initialisation at
    // build time instead would freeze per-process state into the snapshot
    // (the pid in log lines, NOVANET_TRACE), and no snapshot can start below
    // Node's own bootstrap (README.md). require() is not there after
    // deserialisation: builtins come through process.getBuiltinModule.
    main = join(dist, "novanet-snapshot.cjs");
    writeFileSync(main, [
      "const v8 = require('node:v8');",
      "v8.startupSnapshot.setDeserializeMainFunction(() => {",
      "  globalThis.require = process.getBuiltinModule ? (id) => process.getBuiltinModule(id) : require;",
      `  (function (require) { ${code} })(globalThis.require);`,
      "});",
    ].join("\n"));
  }
  writeFileSync(cfg, JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, ...(snapshot ? { useSnapshot: true } : { useCodeCache: true }) }));
  execFileSync(process.execPath, ["--experimental-sea-config", cfg], { stdio: "pipe" });
  return blob;
}

function sea(tmp, snapshot = false) {
  const blob = seaBlob(snapshot);
  copyFileSync(process.execPath, tmp);
  chmodSync(tmp, 0o755);
  const postject = join(require.resolve("postject/package.json"), "..", "dist", "cli.js");
  execFileSync(process.execPath, [postject, tmp, "NODE_SEA_BLOB", blob,
    "--sentinel-fuse", "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2"], { stdio: "pipe" });
  rmSync(blob, { force: true });
}

const builders = { bun, sea, "sea-snapshot": (tmp) => sea(tmp, true), script };
const asked = process.env.NOVANET_BUILD || "bun";
if (!KINDS.includes(asked)) throw new Error(`build: NOVANET_BUILD must be one of ${KINDS.join(", ")}`);
// Only the default may fall back; a kind asked for by name must build or fail.
// A Node SEA or script runs on the host's Node only: another arch is bun's alone.
const order = process.env.NOVANET_BUILD || cross ? [asked] : ["bun", "sea", "script"];
if (cross && asked !== "bun") throw new Error(`build: NOVANET_ARCH=${ARCH} needs NOVANET_BUILD=bun (a SEA embeds this host's Node)`);
let kind;
for (const k of order) {
  const tmp = `${out}.tmp`;
  rmSync(tmp, { force: true });
  try {
    builders[k](tmp);
    install(tmp);
    kind = k;
    break;
  } catch (e) {
    rmSync(tmp, { force: true });
    if (k === order.at(-1)) throw e;
    console.error(`build: ${k} build failed, trying ${order[order.indexOf(k) + 1]}: ${e.stderr?.toString().trim() || e.message}`);
  }
}
if (out === defaultOut) writeFileSync(join(dist, "BUILD_KIND"), `${kind}\n`);
console.log(`build: ${out} (${kind})`);
