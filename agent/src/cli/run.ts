// `k8shost-agent run --config FILE [flags]`: the node agent itself.
import { Command } from "commander";
import { startAgent } from "../agent";
import { loadConfig } from "../config/load";
import { createLogger } from "../observe/logger";
import { intArg } from "./args";

export function runCommand(): Command {
  return new Command("run")
    .description("run the node agent")
    .option("-c, --config <file>", "YAML config file")
    .option("--node-name <name>", "node name (default: hostname)")
    .option("--control-plane <addr>", "k8shost API server host:port")
    .option("--token-file <file>", "file holding the bearer token")
    .option("--runtime-endpoint <uri>", "CRI endpoint, unix:///path")
    .option("--root-dir <dir>", "agent state directory")
    .option("--healthz-port <port>", "port of /healthz and /metrics (0 = any)", intArg)
    .option("--log-level <level>", "trace, debug, info, warn, error")
    .action(async (o: { config?: string; nodeName?: string; controlPlane?: string; tokenFile?: string; runtimeEndpoint?: string; rootDir?: string; healthzPort?: number; logLevel?: string }) => {
      const cfg = loadConfig(o.config, {
        nodeName: o.nodeName,
        controlPlaneAddress: o.controlPlane,
        tokenFile: o.tokenFile,
        runtimeEndpoint: o.runtimeEndpoint,
        rootDir: o.rootDir,
        healthzPort: o.healthzPort,
        logLevel: o.logLevel,
      });
      const log = createLogger(cfg.logLevel);
      const agent = await startAgent(cfg, log);
      let stopping = false;
      const stop = (sig: string): void => {
        if (stopping) return;
        stopping = true;
        // Pods keep running: the agent's exit never touches them.
        log.info({ signal: sig }, "stopping; pods keep running");
        void agent.stop().then(() => process.exit(0));
      };
      process.on("SIGTERM", () => stop("SIGTERM"));
      process.on("SIGINT", () => stop("SIGINT"));
    });
}
