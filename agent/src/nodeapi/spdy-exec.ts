// Exec and attach in v5.channel.k8s.io, which containerd's streaming server
// does not speak over WebSocket (it stops at v4) but whose one addition, the
// half-close of stdin, it does have over SPDY. So for a v5 client the node API
// dials the runtime's URL as kubectl's SPDY executor would (v4 streams: error,
// stdin, stdout, stderr, resize, one SPDY stream each) and maps the client's
// channels onto them: stdin (0) and resize (4) in; stdout (1), stderr (2) and
// the Status on the error stream (3) out; CLOSE (255) of stdin becomes the
// FIN of the stdin stream. When the runtime ends the session (the command
// ended and its Status was sent) the WebSocket closes, as the kubelet's does.
import { WebSocket, type RawData } from "ws";
import type { StreamOptions } from "../runtime/types";
import { CLOSE, ERROR, frame, RESIZE, STDERR, STDIN, STDOUT, V4 } from "./channels";
import type { SpdyConnection, SpdyStream } from "./spdy/connection";
import { dialSpdy } from "./spdy/dial";

/** The runtime's side of one session, its streams accepted and nothing read yet. */
export interface RuntimeSession {
  conn: SpdyConnection;
  error: SpdyStream;
  stdin?: SpdyStream;
  stdout?: SpdyStream;
  stderr?: SpdyStream;
  resize?: SpdyStream;
}

/**
 * Dials the runtime over SPDY and opens exactly the streams `s` asks for (the
 * server waits for that many and no more), in client-go's order.
 */
export async function dialRuntimeSpdy(url: string, s: StreamOptions, timeoutMs: number): Promise<RuntimeSession> {
  const conn = await dialSpdy(url, V4, timeoutMs);
  const open = (type: string, wanted: boolean): Promise<SpdyStream | undefined> => (wanted ? conn.openStream({ streamtype: type }) : Promise.resolve(undefined));
  const timer = setTimeout(() => conn.terminate(), timeoutMs);
  try {
    const [error, stdin, stdout, stderr, resize] = await Promise.all([open("error", true), open("stdin", s.stdin), open("stdout", s.stdout), open("stderr", s.stderr), open("resize", s.tty)]);
    // Until the client is there nothing more is read; what already came waits in the streams.
    conn.pause();
    return { conn, error: error!, stdin, stdout, stderr, resize };
  } catch (err) {
    conn.terminate();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Maps the client's WebSocket onto the runtime's streams until either side ends; backpressure both ways. */
export function bridgeV5(client: WebSocket, rt: RuntimeSession, highWater: number, lowWater: number): void {
  const { conn } = rt;
  let stdinClosed = false;

  const out = (channel: number, s: SpdyStream | undefined): void =>
    s?.attach({
      data: (b) => {
        if (client.readyState !== WebSocket.OPEN) return;
        client.send(frame(channel, b), { binary: true }, () => {
          // Delivered to the client's socket: the runtime may send that much more.
          s.consumed(b.length);
          if (conn.paused && client.bufferedAmount < lowWater) conn.resume();
        });
        if (client.bufferedAmount > highWater) conn.pause();
      },
      end: () => undefined,
    });
  out(STDOUT, rt.stdout);
  out(STDERR, rt.stderr);
  out(ERROR, rt.error);

  client.on("message", (data: RawData) => {
    const msg = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (msg.length === 0) return;
    const payload = msg.subarray(1);
    if (msg[0] === STDIN && !stdinClosed) rt.stdin?.write(payload);
    else if (msg[0] === RESIZE) rt.resize?.write(payload);
    else if (msg[0] === CLOSE && payload[0] === STDIN && !stdinClosed) {
      // v5's half-close: the command reads the end of its input.
      stdinClosed = true;
      rt.stdin?.end();
    }
    if (conn.bufferedAmount > highWater) client.pause();
  });
  conn.on("drain", () => {
    if (client.isPaused && conn.bufferedAmount < lowWater) client.resume();
  });

  // The runtime closes the connection right after the Status: the client gets everything before it, then the close.
  conn.on("close", () => {
    if (client.readyState === WebSocket.OPEN) client.close(1000);
    else if (client.readyState === WebSocket.CONNECTING) client.terminate();
  });
  client.on("close", () => conn.close());
  client.on("error", () => conn.terminate());
  if (conn.closed) client.close(1000);
  else conn.resume();
}
