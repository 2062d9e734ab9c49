// `k8shost-agent exec POD [-c C] [-i] [-t] -- CMD...`: kubectl exec through the
// node API of the pod's node (nodeapi/). The command's exit code is the CLI's.
// Also the node-connection flags attach and port-forward share.
import { Command } from "commander";
import { CodedError } from "@plasmacloud/common/errors";
import { locatePod, openStream, defaultContainer, type NodeConnOpts } from "../nodeapi/client";
import { V4, V5 } from "../nodeapi/channels";
import { execPath } from "../nodeapi/paths";
import { runSession } from "../nodeapi/session";

export function withNodeConn(c: Command): Command {
  return c
    .option("-s, --server <addr>", "control plane host:port", process.env.K8SHOST_SERVER_ADDR ?? "127.0.0.1:6443")
    .option("--token-file <file>", "bearer token file", process.env.K8SHOST_TOKEN_FILE ?? "/etc/k8shost-agent/token")
    .option("-n, --namespace <ns>", "namespace", "default")
    .option("--node-address <host[:port]>", "the node API to use (default: the pod's node, its InternalIP and published port)")
    .option("--certificate-authority <file>", "CA bundle that signed the node API's certificate")
    .option("--insecure-skip-tls-verify", "do not verify the node API's certificate (insecure)");
}

const warn = (msg: string): void => void process.stderr.write(`${msg}\n`);

/** kubectl's -t without a local terminal: said, and the session runs without one. */
export function ttyUsable(tty: boolean, stdin: boolean): boolean {
  if (!tty) return false;
  if (!stdin || !process.stdin.isTTY) {
    warn("Unable to use a TTY - input is not a terminal or the right kind of file");
    return false;
  }
  return true;
}

type ExecOpts = NodeConnOpts & { container?: string; stdin?: boolean; tty?: boolean };

export function execCommand(): Command {
  const c = new Command("exec")
    .description("run a command in a container of a pod (as kubectl exec); the command's exit code is this one's")
    .argument("<pod>", "pod name")
    .argument("<command...>", "the command and its arguments, after --")
    .option("-c, --container <name>", "container name (default: the pod's default or first container)")
    .option("-i, --stdin", "pass stdin to the container (without -t its end reaches the command as end of input, v5.channel.k8s.io)")
    .option("-t, --tty", "stdin is a TTY: the local terminal goes raw and its size is forwarded");
  return withNodeConn(c).action(async (name: string, command: string[], o: ExecOpts) => {
    if (command.length === 0) throw new CodedError("InvalidArgument", "you must specify at least one command for the container");
    const { pod, endpoint } = await locatePod(o, name);
    const container = defaultContainer(pod, o.container, warn);
    const tty = ttyUsable(!!o.tty, !!o.stdin);
    const ws = await openStream(endpoint, execPath(o.namespace, name, container, command, { stdin: !!o.stdin, stdout: true, stderr: !tty, tty }), [V5, V4]);
    const exit = await runSession(ws, { stdin: !!o.stdin, tty }, process);
    // kubectl's words: the command's own exit code is said and passed on; any other failure is an error (1).
    if (exit.code !== 0) warn(/^command terminated with non-zero exit code/.test(exit.message) ? `command terminated with exit code ${exit.code}` : `error: ${exit.message}`);
    process.exitCode = exit.code;
  });
}
