// Names outside the cluster zone go to the node's upstream resolvers, each
// tried in turn with a deadline, over the transport the question came in on
// (a truncated UDP answer is relayed as is: the client asks again over TCP).
import { createSocket } from "node:dgram";
import { connect } from "node:net";

export interface Upstream {
  host: string;
  port: number;
}

export function parseUpstream(s: string): Upstream {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(s);
  if (!m) throw new Error(`upstream '${s}' is not IPv4[:port]`);
  return { host: m[1]!, port: m[2] ? Number(m[2]) : 53 };
}

function udpExchange(u: Upstream, query: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = createSocket("udp4");
    const id = query.readUInt16BE(0);
    const done = (err: Error | undefined, msg?: Buffer): void => {
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(msg!);
    };
    const timer = setTimeout(() => done(new Error(`upstream ${u.host}:${u.port} did not answer in ${timeoutMs} ms`)), timeoutMs);
    sock.on("error", (e) => done(e));
    sock.on("message", (msg) => {
      if (msg.length >= 2 && msg.readUInt16BE(0) === id) done(undefined, msg);
    });
    sock.send(query, u.port, u.host);
  });
}

function tcpExchange(u: Upstream, query: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = connect(u.port, u.host);
    let buf = Buffer.alloc(0);
    const done = (err: Error | undefined, msg?: Buffer): void => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(msg!);
    };
    const timer = setTimeout(() => done(new Error(`upstream ${u.host}:${u.port} did not answer in ${timeoutMs} ms`)), timeoutMs);
    sock.on("error", (e) => done(e));
    sock.on("connect", () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      sock.write(Buffer.concat([len, query]));
    });
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(undefined, buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
  });
}

/** The first upstream's answer (raw, the client's id kept); throws when none answers. */
export async function forward(upstreams: Upstream[], query: Buffer, tcp: boolean, timeoutMs = 2000): Promise<Buffer> {
  let last: unknown = new Error("no upstream configured");
  for (const u of upstreams) {
    try {
      return await (tcp ? tcpExchange : udpExchange)(u, query, timeoutMs);
    } catch (err) {
      last = err;
    }
  }
  throw last;
}
