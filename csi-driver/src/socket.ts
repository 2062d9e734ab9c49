// Unix-socket serving with tight permissions: the socket's directory is 0750
// (so no one else can even reach the socket while it is being created), the
// socket 0660. A stale socket from a dead instance is removed; a live one is
// an error rather than stolen.
import { connect } from "node:net";
import { chmod, lstat, mkdir, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import { CsiError } from "./errors";

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** ownDir: the directory is ours alone, so its mode is forced to 0750. */
export async function prepareSocketPath(path: string, ownDir: boolean): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o750 });
  if (ownDir) await chmod(dirname(path), 0o750);
  let st;
  try {
    st = await lstat(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new CsiError(status.FAILED_PRECONDITION, "socket path exists and is not a socket", { path });
  if (await answers(path)) throw new CsiError(status.FAILED_PRECONDITION, "another process is serving this socket", { path });
  await rm(path, { force: true });
}

export async function serveOnSocket(server: Server, path: string, ownDir: boolean): Promise<void> {
  await prepareSocketPath(path, ownDir);
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix:${path}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  await chmod(path, 0o660);
}

export function shutdown(server: Server, graceMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    t.unref();
    server.tryShutdown(() => {
      clearTimeout(t);
      resolve();
    });
  });
}
