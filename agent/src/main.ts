#!/usr/bin/env node
// k8shost-agent: thin entry; every command lives in cli/.
import { program } from "./cli/program";

program().parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`k8shost-agent: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
