// `k8shost-agent config check FILE` and `k8shost-agent config defaults`, on the
// agent's own loader and schema: what `check` accepts is exactly what
// `run --config` accepts, and `defaults` can never drift from the schema (the
// node tarball ships its output as the default config).
import { Command } from "commander";
import { Document } from "yaml";
import { errorMessage } from "@plasmacloud/common/errors";
import { loadConfig } from "../config/load";
import { defaultConfig } from "../config/schema";

/**
 * Every field with its default, as YAML. nodeName is a comment, not a value: its
 * default is each host's own name, and a file that named the build host would
 * register every node under that one name.
 */
export function defaultsYaml(): string {
  const { nodeName: _perHost, ...fields } = defaultConfig();
  const doc = new Document(fields);
  doc.commentBefore = [
    " k8shost-agent configuration: every field at its default (k8shost-agent run --config FILE).",
    " Check a changed file with: k8shost-agent config check FILE",
    " nodeName: <this host's name, lowercased>",
  ].join("\n");
  return doc.toString();
}

/** Loads `file` as `run --config` would; undefined when it is valid, else the field-named error. */
export function configProblem(file: string): string | undefined {
  try {
    loadConfig(file);
    return undefined;
  } catch (err) {
    return errorMessage(err);
  }
}

export function configCommand(): Command {
  const config = new Command("config").description("the agent's config file: check one, print the defaults");
  config
    .command("check")
    .argument("<file>", "YAML config file")
    .description("validate a config file with the agent's loader and schema; prints ok or the field in error")
    .action((file: string) => {
      const problem = configProblem(file);
      if (problem === undefined) return void process.stdout.write("ok\n");
      process.stderr.write(`${problem}\n`);
      process.exitCode = 1;
    });
  config
    .command("defaults")
    .description("print the full default config as YAML")
    .action(() => void process.stdout.write(defaultsYaml()));
  return config;
}
