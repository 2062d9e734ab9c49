// `ip` (iproute2) inside a netns, batched, or with JSON output, run through
// ./exec.ts (common/exec's contract: argument arrays, never a shell). A failure is an
// ExecError; errors.ts reports it as CNI error 105.
import { run, start, tool } from "./exec.js";

/** The name of a netns path under /run/netns (what `ip -n` and `ip netns exec` take), else undefined. */
export function netnsName(path: string): string | undefined {
  return /^\/(?:var\/)?run\/netns\/([^/]+)$/.exec(path)?.[1];
}

/** `ip` inside a netns: `ip -n NAME` for named netns (one exec), else nsenter. */
function ipCommand(netns: string | undefined, args: readonly string[]): [string, readonly string[]] {
  const named = netns ? netnsName(netns) : undefined;
  return !netns ? ["ip", args]
    : named ? ["ip", ["-n", named, ...args]]
    // `ip -n` only takes names under /run/netns; nsenter takes any netns path.
    : ["nsenter", [`--net=${netns}`, tool("ip"), ...args]];
}

async function ipIn(netns: string | undefined, args: readonly string[], input?: string): Promise<string> {
  const [cmd, argv] = ipCommand(netns, args);
  return (await run(cmd, argv, { input })).stdout;
}

/**
 * An `ip -batch -` started now and given its lines as they become known
 * (exec.ts start()): its exec is paid while ADD waits for NovaNET. ip runs
 * each line as it arrives and stops at the first that fails.
 */
export interface IpSession {
  send(lines: readonly string[]): void;
  /** Resolves once ip has printed something (end what you send with a `link show`): the lines before it are done. */
  output(): Promise<void>;
  /** Sends the last lines and waits for ip to run them and exit. */
  run(lines: readonly string[]): Promise<string>;
  /** Ends it early (an ADD that failed first); what was sent still runs. */
  cancel(): void;
}

export function ipSession(netns?: string): IpSession {
  const [cmd, argv] = ipCommand(netns, ["-batch", "-"]);
  const p = start(cmd, argv);
  const send = (lines: readonly string[]): void => { if (lines.length) p.write(`${lines.join("\n")}\n`); };
  return {
    send,
    output: () => p.output(),
    run: async (lines) => {
      send(lines);
      return (await p.end()).stdout;
    },
    cancel: () => void p.end().catch(() => undefined),
  };
}

/** Several `ip` commands in one process (`ip -batch -`): one exec, not five. */
export function ipBatch(lines: readonly string[], netns?: string): Promise<string> {
  return ipIn(netns, ["-batch", "-"], `${lines.join("\n")}\n`);
}

export async function ipJson<T>(args: readonly string[], netns?: string): Promise<T> {
  const s = await ipIn(netns, ["-j", ...args]);
  return s.trim() ? (JSON.parse(s) as T) : ([] as unknown as T);
}
