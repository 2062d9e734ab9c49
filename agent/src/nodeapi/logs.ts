// GET /containerLogs/{namespace}/{pod}/{container}: the kubelet's endpoint with
// its query (follow, previous, tailLines, sinceSeconds, sinceTime, timestamps,
// limitBytes), served from this node's log files through logs/ (the reader
// `k8shost-agent logs` uses on the node). The container and the instance are
// chosen from the pod's status by the API server's and kubelet's rules
// (logs/locate.ts); a follow ends when the instance stops running or the
// client goes away.
import { once } from "node:events";
import type { ServerResponse } from "node:http";
import { CodedError, errorCode, errorMessage } from "@plasmacloud/common/errors";
import type { Pod } from "@plasmacloud/proto/k8shost";
import { containerName, logTarget } from "../logs/locate";
import { readLogBytes } from "../logs/read";
import { identity } from "../pods/spec";
import { containerLogFile } from "../runtime/logs";
import type { PodRuntime } from "../runtime/types";
import type { LogQuery } from "./paths";

export interface LogsDeps {
  podLogsDir: string;
  runtime: Pick<PodRuntime, "podState">;
}

/** The log file and whether its instance still runs; NotFound or InvalidArgument for a bad container/instance. */
function locate(pod: Pod, container: string, q: LogQuery, d: LogsDeps): { path: string; running: () => Promise<boolean> } {
  let name: string;
  let target: ReturnType<typeof logTarget>;
  try {
    name = containerName(pod, container);
    target = logTarget(pod, name, q.previous);
  } catch (err) {
    throw new CodedError(errorCode(err) === "NotFound" ? "NotFound" : "InvalidArgument", errorMessage(err));
  }
  const id = target.containerId.replace(/^[a-z]+:\/\//, "");
  const running = async (): Promise<boolean> => {
    if (!target.latest) return false;
    const st = await d.runtime.podState(pod.metadata!.uid).catch(() => undefined);
    // A runtime that does not answer ends no follow.
    return st === undefined || st.containers.some((c) => c.id === id && c.state === "running");
  };
  return { path: containerLogFile(d.podLogsDir, identity(pod), name, target.attempt), running };
}

export async function serveLogs(res: ServerResponse, pod: Pod, container: string, q: LogQuery, d: LogsDeps): Promise<void> {
  const { path, running } = locate(pod, container, q, d);
  const halt = new AbortController();
  res.once("close", () => halt.abort());
  const sinceMs = q.sinceSeconds !== undefined ? Date.now() - q.sinceSeconds * 1000 : q.sinceTime?.getTime();
  const chunks = readLogBytes(path, {
    tail: q.tailLines,
    sinceNs: sinceMs !== undefined ? BigInt(sinceMs) * 1_000_000n : undefined,
    timestamps: q.timestamps,
    follow: q.follow,
    signal: halt.signal,
    stillRunning: running,
  });
  let left = q.limitBytes ?? Infinity;
  let started = false;
  try {
    for await (let chunk of chunks) {
      if (!started) {
        res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-cache" });
        started = true;
      }
      if (chunk.length > left) chunk = chunk.subarray(0, left);
      left -= chunk.length;
      if (!res.write(chunk)) await once(res, "drain", { signal: halt.signal }).catch(() => undefined);
      if (left <= 0 || halt.signal.aborted) break;
    }
  } catch (err) {
    // Before the first byte the status can still say what went wrong.
    if (!started) throw new CodedError(errorCode(err) === "NotFound" ? "NotFound" : "Internal", errorMessage(err));
  }
  if (!started) res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
  res.end();
}
