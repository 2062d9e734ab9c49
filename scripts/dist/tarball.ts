// The node tarball: dist/k8shost-node-<version>-linux-<x64|arm64>.tar.gz holding
//   install.sh  VERSION  bin/{k8shost-agent,lightningstor-csi,novanet}
//   systemd/*.service  containerd/*.toml  cni/*.conflist  config/{k8shost-agent.yaml,lightningstor-csi.env}
// from packaging/ and the executables; the agent's config is what
// `k8shost-agent config defaults` prints, so it can never drift from the schema
// (the x64 agent's for both tarballs: it runs here without emulation, and the
// packaging test checks the arm64 agent prints the same).
import { execFile } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, linkSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { isFresh, markBuilt } from "./fresh";

const execFileP = promisify(execFile);

/** packaging/ folders shipped as they are (tests and this script's inputs stay out). */
const SHIPPED_DIRS = ["systemd", "containerd", "cni", "config"];

export type Arch = "x64" | "arm64";
export const tarballBase = (version: string, arch: Arch): string => `k8shost-node-${version}-linux-${arch}`;

export interface TarballInput {
  repo: string;
  dist: string;
  version: string;
  arch: Arch;
  /** Executable name -> its path in dist/ (dist/linux-arm64/ for arm64). */
  executables: Record<string, string>;
  /** The agent that prints `config defaults` here: one this machine runs natively. */
  configAgent: string;
}

export async function makeTarball(o: TarballInput): Promise<{ path: string; built: boolean }> {
  const base = tarballBase(o.version, o.arch);
  const out = join(o.dist, `${base}.tar.gz`);
  const packaging = join(o.repo, "packaging");
  const inputs = [...Object.values(o.executables), o.configAgent, join(packaging, "install.sh"), ...SHIPPED_DIRS.map((d) => join(packaging, d)), join(o.repo, "scripts/dist")];
  if (isFresh(out, inputs)) return { path: out, built: false };

  const work = join(o.dist, ".build");
  const stage = join(work, base);
  const tmp = `${out}.tmp`;
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(stage, "bin"), { recursive: true });
  try {
    // Hard links: the executables are ~100 MB each and dist/ is one file system.
    for (const [name, path] of Object.entries(o.executables)) linkSync(path, join(stage, "bin", name));
    for (const d of SHIPPED_DIRS) cpSync(join(packaging, d), join(stage, d), { recursive: true });
    copyFileSync(join(packaging, "install.sh"), join(stage, "install.sh"));
    chmodSync(join(stage, "install.sh"), 0o755);
    if (!o.executables["k8shost-agent"]) throw new Error("tarball: no k8shost-agent executable");
    const { stdout: defaults } = await execFileP(o.configAgent, ["config", "defaults"], { env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
    writeFileSync(join(stage, "config", "k8shost-agent.yaml"), defaults);
    writeFileSync(join(stage, "VERSION"), `${o.version}\n`);
    // Owner root and a stable order, whoever builds it.
    await execFileP("tar", ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", "-czf", tmp, "-C", work, base]);
    renameSync(tmp, out);
    markBuilt(out);
  } finally {
    rmSync(stage, { recursive: true, force: true });
    rmSync(tmp, { force: true });
  }
  return { path: out, built: true };
}
