// The three executables `npm run dist` makes, for linux-x64 (dist/<name>) and
// linux-arm64 (dist/linux-arm64/<name>): inputs, builds and how each tells its
// version (shared with the bench, which times that version query).
import { execFile } from "node:child_process";
import { chmodSync, copyFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { arm64Node, arm64Runner } from "./arm64";
import { buildSea, type SeaBuild } from "./sea";
import type { Probe } from "./timings";

const execFileP = promisify(execFile);
export const repo = fileURLToPath(new URL("../..", import.meta.url));
export const dist = join(repo, "dist");
const work = join(dist, ".build");
const at = (...p: string[]): string => join(repo, ...p);
// Bundled into every program: the shared helpers, proto's entries, contracts and
// generated code, the npm dependencies (package-lock.json), and this build.
const SHARED = [at("common/src"), at("proto/src"), at("proto/gen"), at("package-lock.json"), at("scripts/dist")];

export interface Target {
  name: string;
  inputs: string[];
  build(out: string): Promise<void>;
  /** The same program for linux-arm64. */
  buildArm64(out: string): Promise<void>;
  /** How the executable tells its version: a flag, or for a CNI plugin the spec's VERSION verb. */
  version: Pick<Probe, "args" | "env">;
}

/** A Node SEA of `entry` for either architecture: the same bundle, injected into this Node or
 *  into the linux-arm64 Node of its version (scripts/dist/arm64.ts), the latter without a code cache. */
function sea(name: string, entry: string, o: Pick<SeaBuild, "optionalRequires" | "useCodeCache" | "smoke">): Pick<Target, "build" | "buildArm64"> {
  return {
    build: (out) => buildSea({ entry, out, workDir: join(work, name), ...o }),
    buildArm64: async (out) => buildSea({
      entry, out, workDir: join(work, `${name}-linux-arm64`), ...o,
      useCodeCache: false,
      node: { binary: await arm64Node(work), runner: arm64Runner() },
    }),
  };
}

export const targets: Target[] = [
  {
    name: "k8shost-agent",
    inputs: [...SHARED, at("agent/src"), at("agent/package.json")],
    ...sea("k8shost-agent", at("agent/src/main.ts"), {
      // systeminformation requires these inside try/catch, on macOS only; ws tries its
      // native helpers the same way and falls back to its own JS (the node API's streams).
      optionalRequires: ["osx-temperature-sensor", "macos-temperature-sensor", "bufferutil", "utf-8-validate"],
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
    ...sea("lightningstor-csi", at("csi-driver/src/main.ts"), {
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
    // bun cross-compiles it with its aarch64 runtime from the npm registry (offline too);
    // the build's smoke run goes through qemu-user when the host has it.
    async buildArm64(out) {
      await execFileP(process.execPath, ["cni-plugin/scripts/build.mjs"], { cwd: repo, env: { ...process.env, NOVANET_ARCH: "arm64", NOVANET_BUILD: "bun", NOVANET_OUT: out } });
    },
    version: { args: [], env: { CNI_COMMAND: "VERSION" } },
  },
];

