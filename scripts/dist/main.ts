// `npm run dist`: the node's three programs as single executables for
// linux-x64 in dist/ (repo root, git-ignored), then the node tarball
// dist/k8shost-node-<version>-linux-x64.tar.gz, then each executable's size
// and start-up time. Only npm packages are needed: the SEAs are made from the
// Node running this script. A step whose output is newer than its inputs (and
// was made by this Node) is skipped.
//   node --import tsx scripts/dist/main.ts [--no-timings]
import { execFile } from "node:child_process";
import { chmodSync, copyFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { isFresh, markBuilt } from "./fresh";
import { buildSea } from "./sea";
import { makeTarball } from "./tarball";
import { report, type Probe } from "./timings";

const execFileP = promisify(execFile);
const repo = fileURLToPath(new URL("../..", import.meta.url));
const dist = join(repo, "dist");
const work = join(dist, ".build");
const at = (...p: string[]): string => join(repo, ...p);
// Bundled into every program: the shared helpers, proto's entries, contracts and
// generated code, the npm dependencies (package-lock.json), and this build.
const SHARED = [at("common/src"), at("proto/src"), at("proto/gen"), at("package-lock.json"), at("scripts/dist")];

interface Target {
  name: string;
  inputs: string[];
  build(out: string): Promise<void>;
  /** How the executable tells its version: a flag, or for a CNI plugin the spec's VERSION verb. */
  version: Pick<Probe, "args" | "env">;
}

const targets: Target[] = [
  {
    name: "k8shost-agent",
    inputs: [...SHARED, at("agent/src"), at("agent/package.json")],
    build: (out) => buildSea({
      entry: at("agent/src/main.ts"),
      out,
      workDir: join(work, "k8shost-agent"),
      // systeminformation requires these inside try/catch, on macOS only.
      optionalRequires: ["osx-temperature-sensor", "macos-temperature-sensor"],
      // Its unit runs it with NODE_OPTIONS=--max-semi-space-size=4 (flat RSS under the relist's
      // churn); V8 rejects a code cache made with other flags and Node warns at every start.
      useCodeCache: false,
      smoke: { args: ["--version"], expect: /^k8shost-agent \d/ },
    }),
    version: { args: ["--version"] },
  },
  {
    name: "lightningstor-csi",
    inputs: [...SHARED, at("csi-driver/src"), at("csi-driver/package.json")],
    build: (out) => buildSea({
      entry: at("csi-driver/src/main.ts"),
      out,
      workDir: join(work, "lightningstor-csi"),
      smoke: { args: ["--version"], expect: /^lightningstor-csi \d/ },
    }),
    version: { args: ["--version"] },
  },
  {
    name: "novanet",
    inputs: [...SHARED, at("cni-plugin/src"), at("cni-plugin/scripts"), at("cni-plugin/package.json")],
    // Whatever cni-plugin's own build makes (a SEA today): its format is that package's choice.
    async build(out) {
      await execFileP("npm", ["run", "build", "-w", "cni-plugin"], { cwd: repo });
      copyFileSync(at("cni-plugin/dist/novanet"), `${out}.tmp`);
      chmodSync(`${out}.tmp`, 0o755);
      renameSync(`${out}.tmp`, out);
    },
    version: { args: [], env: { CNI_COMMAND: "VERSION" } },
  },
];

async function main(): Promise<void> {
  const timings = !process.argv.includes("--no-timings");
  const started = Date.now();
  // Side by side: on two cores the esbuild/postject steps of one overlap the others' waits.
  await Promise.all(targets.map(async (t) => {
    const out = join(dist, t.name);
    if (isFresh(out, t.inputs)) return console.log(`dist: ${t.name} up to date`);
    const t0 = Date.now();
    await t.build(out);
    markBuilt(out);
    console.log(`dist: ${t.name} built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }));
  const agent = join(dist, "k8shost-agent");
  const { stdout } = await execFileP(agent, ["--version"]);
  const version = /^k8shost-agent (\d+\.\d+\.\d+\S*)/.exec(stdout)?.[1];
  if (!version) throw new Error(`dist: cannot read the version from '${stdout.trim()}'`);
  const tar = await makeTarball({ repo, dist, version, executables: Object.fromEntries(targets.map((t) => [t.name, join(dist, t.name)])) });
  console.log(`dist: ${tar.built ? "built" : "up to date"} ${tar.path}`);
  console.log(`dist: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (timings) console.log(report(targets.map((t) => ({ name: t.name, path: join(dist, t.name), ...t.version })), tar.path));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
