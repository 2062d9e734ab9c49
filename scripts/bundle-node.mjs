#!/usr/bin/env node
// One TypeScript entry point into one ESM file for Node: what a node runs, with
// no TypeScript toolchain at run time. The agent's build, the Nix package
// (lightningstor-csi, the stand-ins) and anything else that ships a bundle use it.
//   node scripts/bundle-node.mjs ENTRY.ts OUT.mjs
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

export async function bundleNode(entry, outfile) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    minifySyntax: true,
    legalComments: "none",
    // CommonJS dependencies (grpc-js, prom-client) call require(): give the ESM bundle one.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: "warning",
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [entry, outfile] = process.argv.slice(2);
  if (!entry || !outfile) {
    console.error("usage: bundle-node.mjs ENTRY.ts OUT.mjs");
    process.exit(2);
  }
  await bundleNode(entry, outfile);
}
