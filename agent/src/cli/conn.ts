// The connection flags every client command takes, and the client they make.
import { Command } from "commander";
import { ControlPlane } from "../controlplane/client";

export interface ConnOpts {
  server: string;
  tokenFile: string;
  namespace: string;
  output?: string;
}

export function connect(o: ConnOpts): ControlPlane {
  return new ControlPlane(o.server, o.tokenFile, "", 15_000);
}

export function withConn(c: Command): Command {
  return c
    .option("-s, --server <addr>", "control plane host:port", process.env.K8SHOST_SERVER_ADDR ?? "127.0.0.1:6443")
    .option("--token-file <file>", "bearer token file", process.env.K8SHOST_TOKEN_FILE ?? "/etc/k8shost-agent/token")
    .option("-n, --namespace <ns>", "namespace", "default")
    .option("-o, --output <fmt>", "json | yaml | wide");
}
