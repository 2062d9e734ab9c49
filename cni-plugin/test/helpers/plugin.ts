// Invokes the built novanet executable the way a runtime does: CNI_* env,
// config on stdin, result or error JSON on stdout.
import { exec, type Ran } from "./exec.js";
import { pluginBin } from "./build.js";

export interface Invocation {
  command: string;
  containerId?: string;
  netns?: string;
  ifname?: string;
  args?: string;
  config: Record<string, unknown> | string;
  bin?: string;
}

export interface PluginRun extends Ran { json: Record<string, unknown> | undefined }

export async function invoke(i: Invocation): Promise<PluginRun> {
  const env: NodeJS.ProcessEnv = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", CNI_COMMAND: i.command, CNI_PATH: "/usr/lib/cni" };
  if (i.containerId !== undefined) env.CNI_CONTAINERID = i.containerId;
  if (i.netns !== undefined) env.CNI_NETNS = i.netns;
  if (i.ifname !== undefined) env.CNI_IFNAME = i.ifname;
  if (i.args !== undefined) env.CNI_ARGS = i.args;
  const input = typeof i.config === "string" ? i.config : JSON.stringify(i.config);
  const r = await exec(i.bin ?? pluginBin, [], { env, input });
  let json: Record<string, unknown> | undefined;
  try {
    json = r.stdout.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  return { ...r, json };
}

/** ADD/DEL/CHECK for one attachment with the usual env. */
export function verb(command: string, config: Record<string, unknown>, containerId: string, netns: string, ifname = "eth0", args?: string): Promise<PluginRun> {
  return invoke({ command, config, containerId, netns, ifname, args });
}

export function describeRun(r: Ran): string {
  return `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}
