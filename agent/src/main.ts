#!/usr/bin/env node
// k8shost-agent: thin entry; every command lives in cli/. A bare version query
// is answered before the command tree (and with it the whole agent) loads:
// packaging, Nix checks and operators call it often.
import { errorMessage } from "@plasmacloud/common/errors";
import { versionLine } from "./version";

const args = process.argv.slice(2);
if (args.length === 1 && ["--version", "-V", "version"].includes(args[0]!)) {
  process.stdout.write(`${versionLine()}\n`);
} else {
  import("./cli/program")
    .then(({ program }) => program().parseAsync(process.argv))
    .catch((err: unknown) => {
      process.stderr.write(`k8shost-agent: ${errorMessage(err)}\n`);
      process.exit(1);
    });
}
