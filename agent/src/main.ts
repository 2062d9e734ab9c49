#!/usr/bin/env node
// k8shost-agent: thin entry; every command lives in cli/.
import { errorMessage } from "@plasmacloud/common/errors";
import { program } from "./cli/program";

program().parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`k8shost-agent: ${errorMessage(err)}\n`);
  process.exit(1);
});
