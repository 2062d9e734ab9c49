// The three executables `npm run dist` makes: inputs, build and how each tells
// its version (shared with the bench, which times that version query).
import { execFile } from "node:child_process";
import { chmodSync, copyFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { buildSea } from "./sea";
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
  /** How the executable tells its version: a flag, or for a CNI plugin the spec's VERSION verb. */
  version: Pick<Probe, "args" | "env">;
}

export const targets: Target[] = [
  {
    name: "k8shost-agent",
    inputs: [...SHARED, at("agent/src"), at("agent/package.json")],
    build: (out) => buildSea({
      entry: at("agent/src/main.ts"),
      out,
      workDir: join(work, "k8shost-agent"),
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

