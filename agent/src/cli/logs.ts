// `k8shost-agent logs POD [-c C] [-f] [-p] [--tail N] [--since D] [--timestamps]`:
// kubectl logs on the node itself. The pod (uid, containers, status) comes from
// the control plane, the files from this node's podLogsDir (the agent's config),
// read by logs/read.ts. Only the container's live file is read, as the kubelet
// does; rotated files are not. Output is the log's bytes as written.
// Off the pod's node (or with --node-address) the same read is served by that
// node's API (nodeapi/, GET /containerLogs), authenticated by the user's token.
import { existsSync } from "node:fs";
import { once } from "node:events";
import { Command } from "commander";
import { GetPodRequest, type Pod } from "@plasmacloud/proto/k8shost";
import { CodedError, errorCode } from "@plasmacloud/common/errors";
import { loadConfig } from "../config/load";
import type { ControlPlane } from "../controlplane/client";
import { containerName, instanceRunning, logTarget } from "../logs/locate";
import { readLogBytes } from "../logs/read";
import { identity } from "../pods/spec";
import { containerLogFile } from "../runtime/logs";
import { nodeEndpoint } from "../nodeapi/client";
import { remoteLogs } from "../nodeapi/remote-logs";
import { connect } from "./conn";

/** Where the node's unit (packaging/systemd) and install.sh put the agent's config. */
export const DEFAULT_AGENT_CONFIG = "/etc/k8shost-agent/config.yaml";

interface LogsOpts {
  container?: string;
  follow?: boolean;
  previous?: boolean;
  tail: string;
  since?: string;
  timestamps?: boolean;
  namespace: string;
  config?: string;
  server: string;
  tokenFile: string;
  nodeAddress?: string;
  certificateAuthority?: string;
  insecureSkipTlsVerify?: boolean;
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration ("90s", "1h30m", "1.5h"), in ns; undefined when it is not one. */
export function parseDuration(s: string): number | undefined {
  if (s === "0") return 0;
  const sign = s.startsWith("-") ? -1 : 1;
  const body = s.replace(/^[-+]/, "");
  if (!/^(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.test(body)) return undefined;
  let total = 0;
  for (const m of body.matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(m[1]) * UNIT_NS[m[2]!]!;
  return sign * total;
}

/** kubectl's flag checks and conversions: --tail >= -1, --since a positive duration (whole seconds, rounded up). */
function readOpts(o: LogsOpts): { tail: number; sinceSeconds: number } {
  const tail = Number(o.tail);
  if (!Number.isInteger(tail)) throw new CodedError("InvalidArgument", `invalid argument "${o.tail}" for "--tail" flag: not an integer`);
  if (tail < -1) throw new CodedError("InvalidArgument", "--tail must be greater than or equal to -1");
  let sinceSeconds = 0;
  if (o.since !== undefined) {
    const ns = parseDuration(o.since);
    if (ns === undefined) throw new CodedError("InvalidArgument", `invalid argument "${o.since}" for "--since" flag: not a duration (e.g. 30s, 5m, 1h)`);
    if (ns < 0) throw new CodedError("InvalidArgument", "--since must be greater than 0");
    sinceSeconds = Math.ceil(ns / 1e9);
  }
  return { tail, sinceSeconds };
}

async function getPod(cp: ControlPlane, namespace: string, name: string): Promise<Pod> {
  return cp.call("GetPod", cp.pods.getPod.bind(cp.pods), GetPodRequest.fromPartial({ ref: { namespace, name } }));
}

async function writeOut(chunk: Buffer, signal: AbortSignal): Promise<void> {
  if (process.stdout.write(chunk) || signal.aborted) return;
  await once(process.stdout, "drain", { signal }).catch(() => undefined);
}

export function logsCommand(): Command {
  return new Command("logs")
    .description("print the logs of a container of a pod on this node (as kubectl logs)")
    .argument("<pod>", "pod name")
    .option("-c, --container <name>", "container name (required when the pod has several)")
    .option("-f, --follow", "keep printing what the container writes, until it exits (or Ctrl-C)")
    .option("-p, --previous", "the previous, terminated instance of the container")
    .option("--tail <lines>", "only the last N lines (-1: all)", "-1")
    .option("--since <duration>", "only lines newer than a relative duration like 5s, 2m or 3h")
    .option("--timestamps", "prefix each line with its RFC3339Nano timestamp")
    .option("-n, --namespace <ns>", "namespace", "default")
    .option("--config <file>", `the agent's config file, for podLogsDir and nodeName (default: ${DEFAULT_AGENT_CONFIG} when present)`)
    .option("-s, --server <addr>", "control plane host:port", process.env.K8SHOST_SERVER_ADDR ?? "127.0.0.1:6443")
    .option("--token-file <file>", "bearer token file", process.env.K8SHOST_TOKEN_FILE ?? "/etc/k8shost-agent/token")
    .option("--node-address <host[:port]>", "read through this node API (default off the pod's node: the node's published API)")
    .option("--certificate-authority <file>", "CA bundle that signed the node API's certificate")
    .option("--insecure-skip-tls-verify", "do not verify the node API's certificate (insecure)")
    .action(async (name: string, o: LogsOpts) => {
      const { tail, sinceSeconds } = readOpts(o);
      const cfg = loadConfig(o.config ?? (existsSync(DEFAULT_AGENT_CONFIG) ? DEFAULT_AGENT_CONFIG : undefined));
      const cp = connect({ server: o.server, tokenFile: o.tokenFile, namespace: o.namespace });
      const halt = new AbortController();
      const interrupt = (): void => {
        halt.abort();
        process.exitCode = 130;
      };
      process.once("SIGINT", interrupt);
      // A closed pipe (`logs POD | head`) ends the read quietly.
      process.stdout.on("error", () => halt.abort());
      try {
        const pod = await getPod(cp, o.namespace, name);
        const container = containerName(pod, o.container);
        const node = pod.spec?.nodeName ?? "";
        if (!node) return; // not scheduled yet: no logs anywhere (the API server gives no location either)
        const target = logTarget(pod, container, !!o.previous);
        if (o.nodeAddress || node !== cfg.nodeName) {
          // Off the pod's node: its node API reads the same files there (nodeapi/).
          const q = { follow: !!o.follow, previous: !!o.previous, timestamps: !!o.timestamps, tailLines: tail < 0 ? undefined : tail, sinceSeconds: sinceSeconds || undefined };
          await remoteLogs(await nodeEndpoint(cp, o, pod), o.namespace, name, container, q, halt.signal, (chunk) => writeOut(chunk, halt.signal));
          return;
        }
        const path = containerLogFile(cfg.podLogsDir, identity(pod), container, target.attempt);
        if (!existsSync(path)) throw new CodedError("NotFound", `container "${container}" of pod ${o.namespace}/${name} has no log file ${path} on this node`);
        const stillRunning = async (): Promise<boolean> => {
          if (!target.latest) return false;
          try {
            return instanceRunning(await getPod(cp, o.namespace, name), target);
          } catch (err) {
            return errorCode(err) !== "NotFound"; // an unreachable control plane ends no follow
          }
        };
        let malformed = 0;
        const chunks = readLogBytes(path, {
          tail: tail < 0 ? undefined : tail,
          sinceNs: sinceSeconds > 0 ? BigInt(Date.now() - sinceSeconds * 1000) * 1_000_000n : undefined,
          timestamps: !!o.timestamps,
          follow: !!o.follow,
          signal: halt.signal,
          stillRunning,
          stateCheckMs: 1000,
          onMalformed: (n) => (malformed = n),
        });
        for await (const chunk of chunks) {
          if (halt.signal.aborted) break;
          await writeOut(chunk, halt.signal);
        }
        if (malformed) process.stderr.write(`k8shost-agent: skipped ${malformed} lines of ${path} that are not CRI log records\n`);
      } finally {
        process.off("SIGINT", interrupt);
        cp.close();
      }
    });
}
