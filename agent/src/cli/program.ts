// The command tree. Commands parse flags and print; the work is elsewhere.
import { Command } from "commander";
import { attachCommand } from "./attach";
import { versionLine } from "../version";
import { nodesCommand, podsCommand } from "./client";
import { servicesCommand } from "./services";
import { configCommand } from "./config";
import { createCommand } from "./create";
import { describeCommand } from "./describe";
import { execCommand } from "./exec";
import { logsCommand } from "./logs";
import { portForwardCommand } from "./port-forward";
import { runCommand } from "./run";

export function program(): Command {
  const p = new Command("k8shost-agent").description("PlasmaCloud k8shost node agent").version(versionLine(), "-V, --version", "print the agent version");
  p.command("version").description("print the agent version").action(() => {
    process.stdout.write(`${versionLine()}\n`);
  });
  p.addCommand(runCommand());
  p.addCommand(createCommand());
  p.addCommand(podsCommand().addCommand(describeCommand()));
  p.addCommand(nodesCommand());
  p.addCommand(servicesCommand());
  p.addCommand(logsCommand());
  p.addCommand(execCommand());
  p.addCommand(attachCommand());
  p.addCommand(portForwardCommand());
  p.addCommand(configCommand());
  return p;
}
