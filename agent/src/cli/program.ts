// The command tree. Commands parse flags and print; the work is elsewhere.
import { Command } from "commander";
import { AGENT_VERSION } from "../node/controller";
import { nodesCommand, podsCommand } from "./client";
import { configCommand } from "./config";
import { createCommand } from "./create";
import { runCommand } from "./run";

export function program(): Command {
  const p = new Command("k8shost-agent").description("PlasmaCloud k8shost node agent").version(`k8shost-agent ${AGENT_VERSION} (node ${process.version})`, "-V, --version", "print the agent version");
  p.command("version").description("print the agent version").action(() => {
    process.stdout.write(`k8shost-agent ${AGENT_VERSION} (node ${process.version})\n`);
  });
  p.addCommand(runCommand());
  p.addCommand(createCommand());
  p.addCommand(podsCommand());
  p.addCommand(nodesCommand());
  p.addCommand(configCommand());
  return p;
}
