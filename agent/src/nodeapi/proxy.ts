// The stream plumbing of exec, attach and port-forward: the kubelet's way with a
// CRI runtime that serves its own streams (redirectContainerStreaming off). The
// node API dials the URL the runtime returned (containerd's CRI streaming
// server, on loopback) with the subprotocol the client asked for, and only once
// that is open completes the client's upgrade; from then on WebSocket messages
// pass unchanged both ways, so the channel framing, the exit Status and resize
// are the runtime's own. Either side closing closes the other. A v5 client is
// the exception: its session goes to the runtime over SPDY (spdy-exec.ts).
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import { bridgeV5, type RuntimeSession } from "./spdy-exec";

/** A sender this far behind stops reading its peer until it catches up (flow control across the proxy). */
const HIGH_WATER = 4 << 20;
const LOW_WATER = 1 << 20;
const MAX_MESSAGE = 16 << 20;
export const DIAL_TIMEOUT_MS = 10_000;

/** Dials the runtime's streaming URL; rejects with what the runtime answered when it refuses. */
export function dialRuntime(url: string, protocol: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    // An https URL is containerd's enable_tls_streaming with its self-signed certificate; the URL came over
    // the runtime's local socket, and its one-time token is what makes the request its own.
    const ws = new WebSocket(url, protocol ? [protocol] : [], { perMessageDeflate: false, handshakeTimeout: DIAL_TIMEOUT_MS, maxPayload: MAX_MESSAGE, rejectUnauthorized: false });
    ws.once("open", () => {
      // Nothing is read until the client's side is attached: the runtime speaks first (port-forward's
      // port prefixes, exec's first message) and none of it may be lost.
      ws.pause();
      resolve(ws);
    });
    // Stays attached: an error before the relay starts must not be an unhandled event.
    ws.on("error", reject);
    ws.once("unexpected-response", (req, res) => {
      reject(new Error(`the runtime's streaming server answered HTTP ${res.statusCode ?? "?"}`));
      res.resume();
      req.destroy();
    });
  });
}

function closeCode(code: number): number {
  // 1005/1006/1015 are never sent on the wire; they mean "no code" or "dropped".
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999) ? code : 1000;
}

/** Messages of `from` go to `to` as they are, with backpressure; a close or error of `from` ends `to`. */
function relay(from: WebSocket, to: WebSocket): void {
  from.on("message", (data: RawData, isBinary: boolean) => {
    if (to.readyState !== WebSocket.OPEN) return;
    to.send(data, { binary: isBinary }, () => {
      if (from.isPaused && to.bufferedAmount < LOW_WATER) from.resume();
    });
    if (to.bufferedAmount > HIGH_WATER) from.pause();
  });
  from.on("close", (code: number, reason: Buffer) => {
    if (to.readyState === WebSocket.OPEN) to.close(closeCode(code), reason.subarray(0, 123));
    else if (to.readyState === WebSocket.CONNECTING) to.terminate();
  });
  from.on("error", () => to.terminate());
}

export class StreamProxy {
  private readonly wss: WebSocketServer;
  private readonly chosen = new WeakMap<IncomingMessage, string>();
  private readonly open = new Set<{ terminate(): void; once(event: "close", fn: () => void): unknown }>();

  constructor() {
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: MAX_MESSAGE,
      clientTracking: false,
      // The client gets the subprotocol the runtime accepted (only asked when it offered some).
      handleProtocols: (_offered, req) => this.chosen.get(req) || false,
    });
  }

  /** How many streams are open (client and runtime sides counted once each; a SPDY session is one). */
  get size(): number {
    return this.open.size;
  }

  /**
   * Completes the client's upgrade onto an open runtime stream and relays between them until
   * either ends. The caller dialed `upstream` first, so a runtime refusal is still an HTTP answer.
   */
  attach(req: IncomingMessage, socket: Duplex, head: Buffer, upstream: WebSocket, protocol: string): void {
    if (socket.destroyed) {
      upstream.terminate();
      return;
    }
    this.chosen.set(req, protocol);
    // ws refuses a malformed handshake by closing the socket, without a callback: the runtime's side goes too.
    let upgraded = false;
    socket.once("close", () => {
      if (!upgraded) upstream.terminate();
    });
    this.wss.handleUpgrade(req, socket, head, (client) => {
      upgraded = true;
      for (const ws of [client, upstream]) {
        this.open.add(ws);
        ws.once("close", () => this.open.delete(ws));
      }
      relay(client, upstream);
      relay(upstream, client);
      // The runtime may have ended while the upgrade completed.
      if (upstream.readyState !== WebSocket.OPEN) client.close(1000);
      else upstream.resume();
    });
  }

  /** As attach, for a v5 client whose session runs over SPDY to the runtime. */
  attachSpdy(req: IncomingMessage, socket: Duplex, head: Buffer, rt: RuntimeSession, protocol: string): void {
    if (socket.destroyed) return rt.conn.terminate();
    this.chosen.set(req, protocol);
    let upgraded = false;
    socket.once("close", () => {
      if (!upgraded) rt.conn.terminate();
    });
    this.wss.handleUpgrade(req, socket, head, (client) => {
      upgraded = true;
      for (const side of [client, rt.conn]) {
        this.open.add(side);
        side.once("close", () => this.open.delete(side));
      }
      if (rt.conn.closed) this.open.delete(rt.conn);
      bridgeV5(client, rt, HIGH_WATER, LOW_WATER);
    });
  }

  /** Ends every open stream (agent shutdown). */
  close(): void {
    for (const ws of this.open) ws.terminate();
    this.open.clear();
    this.wss.close();
  }
}
