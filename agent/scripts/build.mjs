// Bundles the agent into one ESM file (agent/dist/k8shost-agent.mjs): what a
// node runs. No TypeScript toolchain at run time, one file to install.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
await build({
  entryPoints: [`${root}/src/main.ts`],
  outfile: `${root}/dist/k8shost-agent.mjs`,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minifySyntax: true,
  legalComments: "none",
  // CommonJS dependencies (grpc-js, prom-client) call require(): give the bundle one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: "warning",
});
console.log("built agent/dist/k8shost-agent.mjs");
