// terminationMessagePath and terminationMessagePolicy with the API server's
// defaults and checks. The runtime mounts the file and reads it on exit
// (runtime/termination.ts); this is the pod side of it.
import type { Container } from "@plasmacloud/proto/k8shost";
import type { ContainerRequest } from "../runtime/types";

export const DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log";
const POLICIES = ["", "File", "FallbackToLogsOnError"];

export function terminationProblem(c: Container, f: string): string | undefined {
  if (!POLICIES.includes(c.terminationMessagePolicy)) return `${f}.terminationMessagePolicy: '${c.terminationMessagePolicy}' is not one of File, FallbackToLogsOnError`;
  const p = c.terminationMessagePath;
  if (p && (!p.startsWith("/") || p.split("/").includes(".."))) return `${f}.terminationMessagePath: '${p}' must be an absolute path without '..'`;
  return undefined;
}

export function terminationSpec(c: Container): NonNullable<ContainerRequest["termination"]> {
  return { path: c.terminationMessagePath || DEFAULT_TERMINATION_MESSAGE_PATH, fallbackToLogs: c.terminationMessagePolicy === "FallbackToLogsOnError" };
}
