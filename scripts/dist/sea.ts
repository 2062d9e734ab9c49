// Turns a TypeScript entry into one Node single-executable application (SEA):
// esbuild bundles the entry and everything it imports into one CommonJS file,
// `node --experimental-sea-config` makes a blob of it, and postject injects
// that blob into a copy of this Node binary (or of another architecture's Node
// of the same version: ForeignNode). The result needs nothing on the node: no
// Node, no node_modules, no TypeScript, no download at build time.
// The recipe of cni-plugin/scripts/build.mjs, in one place for every program
// `npm run dist` builds.
import { execFile } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { build, type Plugin } from "esbuild";

const execFileP = promisify(execFile);
const require = createRequire(import.meta.url);
// Node's marker that a blob is present (from the SEA documentation).
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

export interface SeaBuild {
  /** The program's TypeScript entry. */
  entry: string;
  /** The executable to write. */
  out: string;
  /** Scratch directory for the bundle and the blob. */
  workDir: string;
  plugins?: Plugin[];
  /** Packages the bundle may leave as require() because their caller catches the failure
   *  (optional platform add-ons, e.g. systeminformation's macOS sensors). */
  optionalRequires?: string[];
  /**
   * V8's code cache in the blob: faster start-up, but V8 rejects it (and Node warns on
   * every start) when the process runs with other V8 flags than the build, e.g. a
   * NODE_OPTIONS=--max-semi-space-size a unit sets. Default true.
   */
  useCodeCache?: boolean;
  /** Run against the new executable before it replaces `out`: a build that cannot start fails here. */
  smoke: { args: string[]; env?: Record<string, string>; expect: RegExp };
  /** Another architecture's Node to inject into instead of this one (see ForeignNode). */
  node?: ForeignNode;
}

/**
 * A Node binary of another architecture (linux-arm64). The blob carries the bundle's source
 * only: a V8 code cache or start-up snapshot is made by, and only valid for, the building
 * Node's architecture, so useCodeCache must be false.
 */
export interface ForeignNode {
  binary: string;
  /** Runs it here for the smoke run (qemu-user), or why it cannot: then the smoke run is skipped, saying so. */
  runner: { prefix: string[]; env: Record<string, string> } | { missing: string };
}

/** Bundles `entry` into one CommonJS file a SEA can run; returns its path. */
export async function bundleForSea(entry: string, outfile: string, plugins: Plugin[] = [], optionalRequires: string[] = []): Promise<string> {
  mkdirSync(dirname(outfile), { recursive: true });
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    // A SEA's main script is CommonJS (Node 20 runs no ESM there).
    format: "cjs",
    // Syntax only: identifiers and lines stay readable in a long-running program's stack
    // traces, and keepNames undoes esbuild's renaming of clashing names (class names show in logs).
    minifySyntax: true,
    keepNames: true,
    legalComments: "none",
    plugins,
    logLevel: "error",
  });
  const code = readFileSync(outfile, "utf8");
  // A real import() left in the bundle fails in a SEA.
  if (/[^.\w$]import\(/.test(code)) throw new Error(`${outfile}: bundle still contains import()`);
  // A SEA can require only Node's builtins: a package left out of the bundle fails the build, not the node.
  const external = [...code.matchAll(/\brequire\("([^"]+)"\)/g)]
    .map((m) => m[1]!)
    .filter((id) => !id.startsWith("node:") && !builtinModules.includes(id) && !optionalRequires.includes(id));
  if (external.length) throw new Error(`${outfile}: bundle requires non-builtin modules: ${[...new Set(external)].join(", ")}`);
  return outfile;
}

/** Injects `bundle` into a copy of this Node binary as `out`, after a smoke run. */
export async function injectSea(bundle: string, out: string, workDir: string, o: Pick<SeaBuild, "smoke" | "useCodeCache" | "node">): Promise<void> {
  if (o.node && o.useCodeCache !== false) throw new Error(`${out}: a SEA for another architecture's Node needs useCodeCache: false`);
  const blob = join(workDir, "sea-prep.blob");
  const cfg = join(workDir, "sea-config.json");
  writeFileSync(cfg, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: o.useCodeCache ?? true }));
  // A clean environment: a NODE_OPTIONS of the builder's shell would change the code cache's V8 flags.
  const env = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
  await execFileP(process.execPath, ["--experimental-sea-config", cfg], { env });
  const tmp = `${out}.tmp`;
  try {
    copyFileSync(o.node?.binary ?? process.execPath, tmp);
    chmodSync(tmp, 0o755);
    // postject's CLI, output captured: its ELF library prints harmless warnings about Node's notes.
    const postject = join(dirname(require.resolve("postject/package.json")), "dist", "cli.js");
    await execFileP(process.execPath, [postject, tmp, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE], { env, maxBuffer: 64 << 20 });
    // Proves it starts before it replaces anything.
    const runner = o.node ? o.node.runner : { prefix: [], env: {} };
    if ("missing" in runner) console.log(`dist: ${out}: smoke run skipped: ${runner.missing}`);
    else {
      const [cmd, ...args] = [...runner.prefix, tmp, ...o.smoke.args];
      const { stdout, stderr } = await execFileP(cmd!, args, { env: { ...env, ...runner.env, ...o.smoke.env } });
      if (!o.smoke.expect.test(stdout)) throw new Error(`${out}: smoke run '${o.smoke.args.join(" ")}' printed ${JSON.stringify(stdout)} ${JSON.stringify(stderr)}`);
    }
    renameSync(tmp, out);
  } finally {
    rmSync(tmp, { force: true });
    rmSync(blob, { force: true });
  }
}

export async function buildSea(b: SeaBuild): Promise<void> {
  mkdirSync(b.workDir, { recursive: true });
  mkdirSync(dirname(b.out), { recursive: true });
  const bundle = await bundleForSea(b.entry, join(b.workDir, "main.cjs"), b.plugins, b.optionalRequires);
  await injectSea(bundle, b.out, b.workDir, b);
}
