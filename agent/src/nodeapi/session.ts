// An exec or attach session on the CLI's side, over an open v5 (or v4)
// channel.k8s.io WebSocket: local stdin to channel 0, channels 1 and 2 to
// stdout and stderr, the terminal's size to channel 4, and the Status on
// channel 3 as the exit code (kubectl's rules). With a TTY the local terminal
// is raw while the session lasts, so keys (Ctrl-C, Ctrl-D) go to the remote
// terminal. Without a TTY the end of local stdin is sent as v5's CLOSE of
// channel 0, so `echo x | exec -i -- cat` ends (kubectl's way); a v4-only node
// API has no half-close, and there stdin is forwarded as long as it flows.
import { WebSocket, type RawData } from "ws";
import { closeMessage, ERROR, frame, parseStatus, resizeMessage, STDERR, STDIN, STDOUT, unframe, V5, type RemoteExit } from "./channels";

export interface SessionIO {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: NodeJS.WritableStream & { columns?: number; rows?: number; on(event: "resize", fn: () => void): unknown; off(event: "resize", fn: () => void): unknown };
  stderr: NodeJS.WritableStream;
}

export interface SessionOptions {
  /** Forward local stdin. */
  stdin: boolean;
  /** The remote side has a terminal: make the local one raw and send its size. */
  tty: boolean;
}

/** Runs the session to its end; resolves with how the remote command ended. */
export function runSession(ws: WebSocket, o: SessionOptions, io: SessionIO): Promise<RemoteExit> {
  return new Promise((resolve) => {
    let status: string | undefined;
    const raw = o.tty && o.stdin && io.stdin.isTTY === true && typeof io.stdin.setRawMode === "function";
    const send = (b: Buffer): void => {
      if (ws.readyState === WebSocket.OPEN) ws.send(b);
    };
    const onInput = (d: Buffer | string): void => send(frame(STDIN, typeof d === "string" ? Buffer.from(d) : d));
    // With a terminal the remote side sees Ctrl-D as a key; without one the end of input is a half-close (v5).
    const onEnd = (): void => {
      if (!o.tty && ws.protocol === V5) send(closeMessage(STDIN));
    };
    const onResize = (): void => {
      if (io.stdout.columns && io.stdout.rows) send(resizeMessage(io.stdout.columns, io.stdout.rows));
    };
    if (raw) io.stdin.setRawMode!(true);
    if (o.stdin) {
      io.stdin.on("data", onInput);
      io.stdin.once("end", onEnd);
      io.stdin.resume();
    }
    if (o.tty) {
      onResize();
      io.stdout.on("resize", onResize);
    }
    ws.on("message", (msg: RawData) => {
      const m = unframe(msg as Buffer); // binaryType "nodebuffer", ws's default
      if (!m) return;
      if (m.channel === STDOUT) io.stdout.write(m.data);
      else if (m.channel === STDERR) io.stderr.write(m.data);
      else if (m.channel === ERROR) status = (status ?? "") + m.data.toString("utf8");
    });
    const finish = (exit: RemoteExit): void => {
      if (raw) io.stdin.setRawMode!(false);
      io.stdin.off("data", onInput);
      io.stdin.off("end", onEnd);
      if (o.stdin) io.stdin.pause();
      io.stdout.off("resize", onResize);
      resolve(exit);
    };
    ws.on("close", () => {
      // The first empty error-channel message only says the stream is up.
      if (status) finish(parseStatus(status));
      else finish({ code: 1, message: "the connection to the node closed before the command's exit status arrived" });
    });
    ws.on("error", () => undefined); // the close that follows ends the session
  });
}
