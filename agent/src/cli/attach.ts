// `k8shost-agent attach POD [-c C] [-i] [-t]`: kubectl attach through the node
// API: the running container's own output (and its stdin with -i, when the
// container was created with stdin: true). Whether there is a terminal is the
// container's setting, as kubectl has it.
import { Command } from "commander";
import { CodedError } from "@plasmacloud/common/errors";
import { V4, V5 } from "../nodeapi/channels";
import { defaultContainer, locatePod, openStream, type NodeConnOpts } from "../nodeapi/client";
import { attachPath } from "../nodeapi/paths";
import { runSession } from "../nodeapi/session";
import { ttyUsable, withNodeConn } from "./exec";

type AttachOpts = NodeConnOpts & { container?: string; stdin?: boolean; tty?: boolean };

const warn = (msg: string): void => void process.stderr.write(`${msg}\n`);

export function attachCommand(): Command {
  const c = new Command("attach")
    .description("attach to the output (and with -i the input) of a running container (as kubectl attach)")
    .argument("<pod>", "pod name")
    .option("-c, --container <name>", "container name (default: the pod's default or first container)")
    .option("-i, --stdin", "pass stdin to the container (it must have stdin: true)")
    .option("-t, --tty", "stdin is a TTY (the container must have tty: true)");
  return withNodeConn(c).action(async (name: string, o: AttachOpts) => {
    const { pod, endpoint } = await locatePod(o, name);
    const container = defaultContainer(pod, o.container, warn);
    const spec = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((x) => x.name === container);
    if (!spec) throw new CodedError("NotFound", `container ${container} not found in pod ${name}`);
    if (o.stdin && !spec.stdin) throw new CodedError("InvalidArgument", `container ${container} was not created with stdin: true; attach without -i`);
    if (o.tty && !spec.tty) warn(`Unable to use a TTY - container ${container} did not allocate one`);
    // The container's terminal decides the framing; the local one goes raw only when asked for and usable.
    const tty = spec.tty;
    const local = !!o.tty && tty && ttyUsable(true, !!o.stdin);
    if (local) warn("If you don't see a command prompt, try pressing enter.");
    const ws = await openStream(endpoint, attachPath(o.namespace, name, container, { stdin: !!o.stdin, stdout: true, stderr: !tty, tty }), [V5, V4]);
    // Ctrl-C without a raw terminal ends the CLI (130) and so the attach; the container runs on.
    const exit = await runSession(ws, { stdin: !!o.stdin, tty: local }, process);
    if (exit.code !== 0 && exit.message) warn(`error: ${exit.message}`);
    process.exitCode = exit.code;
  });
}
