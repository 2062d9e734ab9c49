// `k8shost-agent port-forward POD [LOCAL:]REMOTE...`: kubectl port-forward
// through the node API. Listens on 127.0.0.1 unless --address says otherwise,
// prints kubectl's "Forwarding from" lines, runs until interrupted.
import { Command } from "commander";
import { CodedError } from "@plasmacloud/common/errors";
import { locatePod, type NodeConnOpts } from "../nodeapi/client";
import { forwardPorts, parsePortPair } from "../nodeapi/forward";
import { withNodeConn } from "./exec";

type ForwardOpts = NodeConnOpts & { address: string };

export function portForwardCommand(): Command {
  const c = new Command("port-forward")
    .description("forward local ports to a pod (as kubectl port-forward): PORT, LOCAL:REMOTE or :REMOTE")
    .argument("<pod>", "pod name")
    .argument("<ports...>", "port pairs")
    .option("--address <ip>", "local address to listen on", "127.0.0.1");
  return withNodeConn(c).action(async (name: string, specs: string[], o: ForwardOpts) => {
    const pairs = specs.map(parsePortPair);
    const { pod, endpoint } = await locatePod(o, name);
    if (pod.status?.phase && pod.status.phase !== "Running") throw new CodedError("InvalidArgument", `unable to forward port because pod is not running. Current status=${pod.status.phase}`);
    const fwd = await forwardPorts(endpoint, o.namespace, name, pairs, o.address, (m) => void process.stdout.write(`${m}\n`), (m) => void process.stderr.write(`${m}\n`));
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        void fwd.close().then(resolve);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
  });
}
