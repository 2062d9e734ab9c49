// Container logs on the node, in the kubelet's layout:
// <podLogsDir>/<namespace>_<name>_<uid>/<container>/<restart>.log. The runtime
// owns these files: it makes a pod's directory before the sandbox runs and
// removes it when the pod leaves the node.
import { join } from "node:path";
import type { PodIdentity } from "./types";

export function podLogDir(root: string, p: PodIdentity): string {
  return join(root, `${p.namespace}_${p.name}_${p.uid}`);
}

/** A container's log file, relative to its pod's log directory (CRI's log_path). */
export function containerLogPath(name: string, attempt: number): string {
  return `${name}/${attempt}.log`;
}

/** A container's log file, absolute. */
export function containerLogFile(root: string, p: PodIdentity, name: string, attempt: number): string {
  return join(podLogDir(root, p), containerLogPath(name, attempt));
}
