// `ip` (iproute2) inside a netns, batched, or with JSON output, run through
// @plasmacloud/common/exec (argument arrays, never a shell). A failure is an
// ExecError; errors.ts reports it as CNI error 105.
import { run, tool } from "@plasmacloud/common/exec";

/** `ip` inside a netns: `ip -n NAME` for named netns (one exec), else nsenter. */
async function ipIn(netns: string | undefined, args: readonly string[], input?: string): Promise<string> {
  const named = netns ? /^\/(?:var\/)?run\/netns\/([^/]+)$/.exec(netns) : null;
  const [cmd, argv] = !netns ? ["ip", args]
    : named ? ["ip", ["-n", named[1] as string, ...args]]
    // `ip -n` only takes names under /run/netns; nsenter takes any netns path.
    : ["nsenter", [`--net=${netns}`, tool("ip"), ...args]];
  return (await run(cmd, argv, { input })).stdout;
}

/** Several `ip` commands in one process (`ip -batch -`): one exec, not five. */
export function ipBatch(lines: readonly string[], netns?: string): Promise<string> {
  return ipIn(netns, ["-batch", "-"], `${lines.join("\n")}\n`);
}

export async function ipJson<T>(args: readonly string[], netns?: string): Promise<T> {
  const s = await ipIn(netns, ["-j", ...args]);
  return s.trim() ? (JSON.parse(s) as T) : ([] as unknown as T);
}
