// The kubelet's termination message (kuberuntime makeMounts and
// getTerminationMessage): each container instance gets an empty, world-
// writable file from its pod's directory mounted at terminationMessagePath;
// when it has exited, the last 4 KiB of that file become its message, or with
// FallbackToLogsOnError, an empty file and a non-zero exit, the last 80 lines
// (2 KiB at most) of its log. The path and policy travel as the kubelet's
// container annotations, so the reading needs nothing but the CRI status.
import { chmod, mkdir, open, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ContainerStatus } from "@plasmacloud/proto/cri";
import { errorMessage } from "@plasmacloud/common/errors";
import type { ContainerRequest } from "./types";

export const ANNOTATION_PATH = "io.kubernetes.container.terminationMessagePath";
export const ANNOTATION_POLICY = "io.kubernetes.container.terminationMessagePolicy";
/** kubecontainer.MaxContainerTerminationMessageLength, ...LogLines, ...LogLength */
const MAX_MESSAGE_BYTES = 4096;
const MAX_LOG_LINES = 80;
const MAX_LOG_BYTES = 2048;

/** <rootDir>/pods/<uid>/containers/<name>: the kubelet's pod container dir, removed with the pod's directory. */
export function podContainerDir(rootDir: string, podUid: string, name: string): string {
  return join(rootDir, "pods", podUid, "containers", name);
}

/**
 * The file for one instance (named by its attempt, as its log is), made
 * empty and 0666 whatever the umask so any user in the container can write
 * it. Files of instances older than the previous one go: only the newest
 * exited instance is kept for lastState.
 */
export async function prepareTerminationFile(dir: string, attempt: number): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o750 });
  const keep = new Set([String(attempt), String(attempt - 1)]);
  for (const name of await readdir(dir)) if (!keep.has(name)) await rm(join(dir, name), { force: true });
  const file = join(dir, String(attempt));
  await writeFile(file, "", { mode: 0o666 });
  await chmod(file, 0o666);
  return file;
}

export function terminationAnnotations(path: string, fallbackToLogs: boolean): Record<string, string> {
  return { [ANNOTATION_PATH]: path, [ANNOTATION_POLICY]: fallbackToLogs ? "FallbackToLogsOnError" : "File" };
}

/** The last `max` bytes of a file; undefined when it does not exist. */
async function readTail(path: string, max: number): Promise<Buffer | undefined> {
  let f;
  try {
    f = await open(path, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    const size = (await f.stat()).size;
    const n = Math.min(size, max);
    const buf = Buffer.alloc(n);
    await f.read(buf, 0, n, size - n);
    return buf;
  } finally {
    await f.close();
  }
}

/** The last `lines` newline-terminated lines of a file, read backwards in blocks (tail.FindTailLineStartIndex). */
async function tailLines(path: string, lines: number): Promise<Buffer> {
  const f = await open(path, "r");
  try {
    const size = (await f.stat()).size;
    const block = 64 * 1024;
    let chunk = Buffer.alloc(0);
    let newlines = 0;
    for (let right = size; right > 0 && newlines <= lines; right -= block) {
      const left = Math.max(0, right - block);
      const buf = Buffer.alloc(right - left);
      await f.read(buf, 0, buf.length, left);
      for (const b of buf) if (b === 0x0a) newlines++;
      chunk = Buffer.concat([buf, chunk]);
    }
    for (; newlines > lines; newlines--) chunk = chunk.subarray(chunk.indexOf(0x0a) + 1);
    return chunk;
  } finally {
    await f.close();
  }
}

/** The messages of CRI log lines ("<time> <stream> <P|F> <msg>"); a partial (P) line gets no newline. */
export function criLogContent(raw: Buffer): Buffer {
  const out: Buffer[] = [];
  let start = 0;
  while (start < raw.length) {
    let end = raw.indexOf(0x0a, start);
    if (end < 0) end = raw.length;
    const line = raw.subarray(start, end);
    start = end + 1;
    const s1 = line.indexOf(0x20);
    const s2 = s1 < 0 ? -1 : line.indexOf(0x20, s1 + 1);
    if (s2 < 0) continue; // not a CRI log line
    let s3 = line.indexOf(0x20, s2 + 1);
    if (s3 < 0) s3 = line.length;
    const tags = line.subarray(s2 + 1, s3).toString().split(":");
    out.push(line.subarray(Math.min(s3 + 1, line.length)));
    if (tags[0] !== "P") out.push(Buffer.from("\n"));
  }
  return Buffer.concat(out);
}

/** readLastStringFromContainerLogs: the last lines of the log, the last 2 KiB of them. */
export async function logTailMessage(logPath: string): Promise<string> {
  try {
    const content = criLogContent(await tailLines(logPath, MAX_LOG_LINES));
    return content.subarray(Math.max(0, content.length - MAX_LOG_BYTES)).toString("utf8");
  } catch (err) {
    return `Error on reading termination message from logs: ${errorMessage(err)}`;
  }
}

/** An exited container's message: the runtime's, enriched with what the container left (toKubeContainerStatus). */
export async function exitMessage(st: ContainerStatus): Promise<string> {
  const path = st.annotations[ANNOTATION_PATH] ?? "";
  const fallback = st.annotations[ANNOTATION_POLICY] === "FallbackToLogsOnError" && st.exitCode !== 0 && st.reason !== "ContainerCannotRun";
  let message = "";
  let checkLogs = fallback;
  const mount = path ? st.mounts.find((m) => m.containerPath === path) : undefined;
  if (mount) {
    try {
      const data = await readTail(mount.hostPath, MAX_MESSAGE_BYTES);
      message = data?.toString("utf8") ?? "";
      checkLogs = fallback && message.length === 0;
    } catch (err) {
      message = `Error on reading termination log ${mount.hostPath}: ${errorMessage(err)}`;
      checkLogs = false;
    }
  }
  if (checkLogs && st.logPath) message = await logTailMessage(st.logPath);
  if (!message) return st.message;
  return st.message ? `${st.message}: ${message}` : message;
}

/** The request with the instance's termination file mounted, and the annotations that find it again on exit. */
export async function withTerminationFile(rootDir: string, podUid: string, req: ContainerRequest): Promise<{ req: ContainerRequest; annotations: Record<string, string> }> {
  const t = req.termination;
  if (!t?.path || !rootDir) return { req, annotations: {} };
  const hostPath = await prepareTerminationFile(podContainerDir(rootDir, podUid, req.name), req.attempt);
  return { req: { ...req, mounts: [...req.mounts, { containerPath: t.path, hostPath, readOnly: false }] }, annotations: terminationAnnotations(t.path, t.fallbackToLogs) };
}
