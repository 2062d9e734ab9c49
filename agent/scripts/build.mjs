// Bundles the agent into one ESM file (agent/dist/k8shost-agent.mjs): what a
// node runs. No TypeScript toolchain at run time, one file to install.
import { fileURLToPath } from "node:url";
import { bundleNode } from "../../scripts/bundle-node.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
await bundleNode(`${root}/src/main.ts`, `${root}/dist/k8shost-agent.mjs`);
console.log("built agent/dist/k8shost-agent.mjs");
