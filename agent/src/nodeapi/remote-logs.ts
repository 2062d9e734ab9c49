// `k8shost-agent logs` off the pod's node: the same read, served by the node's
// API (GET /containerLogs), its bytes copied to the caller's writer.
import { errorMessage } from "@plasmacloud/common/errors";
import { get, type NodeEndpoint } from "./client";
import { logsPath, type LogQuery } from "./paths";

export async function remoteLogs(e: NodeEndpoint, namespace: string, pod: string, container: string, q: Partial<LogQuery>, signal: AbortSignal, write: (chunk: Buffer) => Promise<void>): Promise<void> {
  let res;
  try {
    res = await get(e, logsPath(namespace, pod, container, q), signal);
  } catch (err) {
    if (signal.aborted) return;
    throw err;
  }
  try {
    for await (const chunk of res) {
      if (signal.aborted) break;
      await write(chunk as Buffer);
    }
  } catch (err) {
    // Ctrl-C during a follow aborts the request: that is the end, not an error.
    if (!signal.aborted) throw new Error(`node API ${e.base}: the log stream broke: ${errorMessage(err)}`);
  }
}
