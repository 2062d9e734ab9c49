// `npm run dist`: the node's three programs as single executables for
// linux-x64 in dist/ (repo root, git-ignored), then the node tarball
// dist/k8shost-node-<version>-linux-x64.tar.gz, then each executable's size
// and start-up time. Only npm packages are needed: the SEAs are made from the
// Node running this script. A step whose output is newer than its inputs (and
// was made by this Node) is skipped.
//   node --import tsx scripts/dist/main.ts [--no-timings]
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { isFresh, markBuilt } from "./fresh";
import { makeTarball } from "./tarball";
import { dist, repo, targets } from "./targets";
import { report } from "./timings";

const execFileP = promisify(execFile);

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
  // novanet for arm64 too: bun cross-compiles it with its aarch64 runtime from the npm
  // registry. The agent and the CSI driver are Node SEAs, which need an arm64 node
  // binary that nothing reachable offline provides: x64 only for them (and the tarball).
  const novanet = targets.find((t) => t.name === "novanet")!;
  const arm = join(dist, "linux-arm64", "novanet");
  if (isFresh(arm, novanet.inputs)) console.log("dist: linux-arm64/novanet up to date");
  else {
    await execFileP(process.execPath, ["cni-plugin/scripts/build.mjs"], { cwd: repo, env: { ...process.env, NOVANET_ARCH: "arm64", NOVANET_BUILD: "bun", NOVANET_OUT: arm } });
    markBuilt(arm);
    console.log("dist: linux-arm64/novanet built");
  }
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
