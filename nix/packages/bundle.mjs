#!/usr/bin/env node
// Bundles one TypeScript entry point into one ESM file, the way
// agent/scripts/build.mjs bundles the agent: for the programs that have no
// build script of their own (lightningstor-csi, the stand-ins), so the Nix
// package runs bundles, not sources through tsx.
//   node nix/packages/bundle.mjs ENTRY.ts OUT.mjs
import { build } from "esbuild";

const [entry, outfile] = process.argv.slice(2);
if (!entry || !outfile) {
  console.error("usage: bundle.mjs ENTRY.ts OUT.mjs");
  process.exit(2);
}
await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minifySyntax: true,
  legalComments: "none",
  // CommonJS dependencies (@grpc/grpc-js) call require(): give the ESM bundle one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: "warning",
});
console.log(`bundled ${entry} -> ${outfile}`);
