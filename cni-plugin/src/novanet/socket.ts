// The byte stream under h2.ts: TCP ("host:port") or a unix socket
// ("unix:/path"), TLS with ALPN h2 when configured. Under bun (the shipped
// executable) plaintext goes through Bun.connect, which costs ~0.3 ms where
// loading node:net costs ~3; TLS, and everything under Node (tests, the
// script and SEA builds), goes through node:net / node:tls, loaded only here.
import type { ByteStream } from "./h2.js";

export interface Endpoint {
  /** "host:port" or "unix:/path". */
  addr: string;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; serverName?: string };
}

type Target = { unix: string } | { host: string; port: number };

export function target(addr: string): Target {
  if (addr.startsWith("unix:")) return { unix: addr.slice(5).replace(/^\/\/(?=\/)/, "") };
  const i = addr.lastIndexOf(":");
  return { host: addr.slice(0, i).replace(/^\[(.*)\]$/, "$1"), port: Number(addr.slice(i + 1)) };
}

/** The part of Bun's socket API used here (no bun types in this repo). */
interface BunSocket { write(b: Uint8Array): number; end(): void; setNoDelay?(on: boolean): void }
interface BunApi {
  connect(o: ({ unix: string } | { hostname: string; port: number }) & {
    socket: {
      open(s: BunSocket): void;
      data(s: BunSocket, b: Buffer): void;
      drain(s: BunSocket): void;
      close(s: BunSocket, err?: Error): void;
      error(s: BunSocket, err: Error): void;
      connectError(s: BunSocket, err: Error): void;
      end(s: BunSocket): void;
    };
  }): Promise<BunSocket>;
}

/** Opens the stream at once; writes before the connection is up are queued. */
export function openStream(ep: Endpoint, onData: (b: Buffer) => void, onClose: (err?: Error) => void): ByteStream {
  const t = target(ep.addr);
  const bun = (globalThis as { Bun?: BunApi }).Bun;
  if (bun && !ep.tls) return bunStream(bun, t, onData, onClose);
  return nodeStream(ep, t, onData, onClose);
}

function bunStream(bun: BunApi, t: Target, onData: (b: Buffer) => void, onClose: (err?: Error) => void): ByteStream {
  let sock: BunSocket | undefined;
  let queue: Uint8Array[] = [];
  let closed = false;
  let closing = false;
  let waiting: (() => void)[] = [];
  const settle = (): void => {
    const w = waiting;
    waiting = [];
    for (const f of w) f();
  };
  const finish = (err?: Error): void => {
    if (closed) return;
    closed = true;
    settle();
    onClose(err);
  };
  const flush = (s: BunSocket): void => {
    // One send for what piled up (both of ADD's requests go out together).
    if (queue.length > 1) queue = [Buffer.concat(queue)];
    while (queue.length) {
      const b = queue[0] as Uint8Array;
      const n = s.write(b);
      if (n < 0) return finish(new Error("socket write failed"));
      if (n < b.length) {
        queue[0] = b.subarray(n); // the rest goes on drain
        return;
      }
      queue.shift();
    }
    settle();
    if (closing) s.end();
  };
  bun.connect({
    ...("unix" in t ? { unix: t.unix } : { hostname: t.host, port: t.port }),
    socket: {
      open: (s) => {
        try {
          s.setNoDelay?.(true); // requests are whole messages: never wait for an ACK
        } catch { /* a unix socket */ }
        sock = s;
        flush(s);
      },
      data: (_s, b) => onData(b),
      drain: (s) => flush(s),
      close: (_s, err) => finish(err ?? new Error("connection closed")),
      end: () => finish(new Error("connection closed by the server")),
      error: (_s, err) => finish(err),
      connectError: (_s, err) => finish(err),
    },
  }).catch((err: unknown) => finish(err instanceof Error ? err : new Error(String(err))));
  return {
    write: (b) => {
      if (closed || closing) return;
      queue.push(b);
      if (sock && queue.length === 1) flush(sock);
    },
    close: () => {
      closing = true;
      if (sock && !queue.length) sock.end();
      if (!sock) queue = [];
    },
    sent: () => (closed || (sock && !queue.length) ? Promise.resolve() : new Promise<void>((r) => waiting.push(r))),
  };
}

function builtin<T>(id: string): T {
  if (!process.getBuiltinModule) throw new Error("novanet needs Node >= 20.16 (process.getBuiltinModule)");
  return process.getBuiltinModule(id) as T;
}

function nodeStream(ep: Endpoint, t: Target, onData: (b: Buffer) => void, onClose: (err?: Error) => void): ByteStream {
  let closed = false;
  const finish = (err?: Error): void => {
    if (closed) return;
    closed = true;
    onClose(err);
  };
  let queue: Uint8Array[] | undefined = [];
  let sock: import("node:net").Socket | undefined;
  let closing = false;
  let opened: () => void = () => undefined;
  const handedOver = new Promise<void>((r) => { opened = r; });
  // Synchronously and only now (import() would stay a real import() in the
  // CJS bundle, which a code-cached SEA cannot run).
  void Promise.resolve().then(() => {
    try {
      if (ep.tls) {
        const tls = builtin<typeof import("node:tls")>("node:tls");
        const { ca, cert, key, serverName } = ep.tls;
        const o = { ca, cert, key, ALPNProtocols: ["h2"] };
        const host = "host" in t ? t.host : "localhost";
        // servername: SNI and the name checked against the certificate (an IP
        // address is checked against the certificate's IP SANs).
        const name = serverName ?? host;
        const isIp = /^[\d.]+$|:/.test(name);
        sock = "unix" in t
          ? tls.connect({ ...o, path: t.unix, servername: serverName, checkServerIdentity: (_h, c) => tls.checkServerIdentity(name, c) })
          : tls.connect({ ...o, host, port: t.port, ...(isIp ? {} : { servername: name }), checkServerIdentity: (_h, c) => tls.checkServerIdentity(name, c) });
      } else {
        const net = builtin<typeof import("node:net")>("node:net");
        sock = "unix" in t ? net.connect(t.unix) : net.connect(t.port, t.host);
        sock.setNoDelay(true);
      }
    } catch (e) {
      opened();
      return finish(e as Error);
    }
    const s = sock;
    s.on("data", (b: Buffer) => onData(b));
    s.on("error", (e) => finish(e));
    s.on("close", () => finish(new Error("connection closed")));
    if (queue?.length) s.write(Buffer.concat(queue));
    queue = undefined;
    opened(); // handed to the socket (Node buffers until connected)
    if (closing) s.end();
  });
  return {
    write: (b) => {
      if (closed || closing) return;
      if (queue) queue.push(b);
      else sock?.write(b);
    },
    close: () => {
      closing = true;
      if (sock && !queue) sock.end();
    },
    sent: () => handedOver,
  };
}
