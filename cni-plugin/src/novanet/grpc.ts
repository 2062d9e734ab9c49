// Unary gRPC over HTTP/2 (gRPC's "PROTOCOL-HTTP2": length-prefixed messages,
// grpc-status/grpc-message trailers, grpc-timeout), on the minimal client of
// h2.ts over socket.ts. Why not @grpc/grpc-js or node:http2: measured here
// they cost ~20 ms and ~8 ms to load and set up per run, in a process that
// lives for one verb. The stand-in server is grpc-js, so interop is tested
// on every call.
import { GrpcCallError, GrpcStatus } from "@plasmacloud/common/grpc";
import { encodeHeaders, H2Connection, type Header, type Response } from "./h2.js";
import { openStream, type Endpoint } from "./socket.js";
import type { UnaryMethod } from "./wire.js";

export type { UnaryMethod };
export type TransportOptions = Endpoint;

/** Metadata that must never enter an HPACK table (tokens). */
const SECRET = new Set(["authorization"]);

const get = (hs: Header[], name: string): string | undefined => hs.find(([n]) => n === name)?.[1];

export class GrpcTransport {
  private conn: H2Connection | undefined;

  constructor(private readonly opts: TransportOptions) {}

  private connection(): H2Connection {
    this.conn ??= new H2Connection((onData, onClose) => openStream(this.opts, onData, onClose));
    return this.conn;
  }

  /** One call; a failure (transport or status) rejects with GrpcCallError. */
  unary<Req, Res>(m: UnaryMethod<Req, Res>, req: Req, metadata: Record<string, string>, timeoutMs: number): Promise<Res> {
    const method = m.path.slice(m.path.lastIndexOf("/") + 1);
    const fail = (code: number, details: string): GrpcCallError => new GrpcCallError(method, code, details, { addr: this.opts.addr });
    return new Promise((resolve, reject) => {
      const msg = m.requestSerialize(req);
      const body = Buffer.alloc(5 + msg.length);
      body.writeUInt32BE(msg.length, 1);
      msg.copy(body, 5);
      const unix = this.opts.addr.startsWith("unix:");
      const headers = encodeHeaders([
        [":method", "POST"], [":scheme", this.opts.tls ? "https" : "http"], [":path", m.path], [":authority", unix ? "localhost" : this.opts.addr],
        ["content-type", "application/grpc+proto"], ["te", "trailers"], ["grpc-timeout", `${Math.max(1, Math.ceil(timeoutMs))}m`],
        ...Object.entries(metadata).map(([k, v]): Header => [k.toLowerCase(), v]),
      ], SECRET);
      let settled = false;
      const finish = (err: GrpcCallError | undefined, res?: Res): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(res as Res);
      };
      const timer = setTimeout(() => {
        cancel();
        finish(fail(GrpcStatus.DEADLINE_EXCEEDED, `deadline of ${timeoutMs} ms exceeded`));
      }, timeoutMs);
      const cancel = this.connection().request(headers, body, (err, res) => {
        if (err) return finish(fail(GrpcStatus.UNAVAILABLE, err.message));
        finish(...this.result(res as Response, fail, m));
      });
    });
  }

  private result<Req, Res>(r: Response, fail: (code: number, details: string) => GrpcCallError, m: UnaryMethod<Req, Res>): [GrpcCallError | undefined, Res?] {
    const httpStatus = get(r.headers, ":status");
    if (httpStatus !== "200") return [fail(GrpcStatus.UNAVAILABLE, `HTTP status ${httpStatus ?? "missing"}`)];
    // Trailers-only responses carry the status in the headers.
    const from = get(r.trailers, "grpc-status") !== undefined ? r.trailers : r.headers;
    const status = get(from, "grpc-status");
    if (status === undefined) return [fail(GrpcStatus.UNAVAILABLE, "stream closed without grpc-status")];
    if (Number(status) !== GrpcStatus.OK) {
      let message = get(from, "grpc-message") ?? "";
      try {
        message = decodeURIComponent(message);
      } catch {
        // not percent-encoded after all: as sent
      }
      return [fail(Number(status), message)];
    }
    const body = r.body;
    if (body.length < 5 || body[0] !== 0) return [fail(GrpcStatus.INTERNAL, "malformed or compressed response")];
    const len = body.readUInt32BE(1);
    if (body.length < 5 + len) return [fail(GrpcStatus.INTERNAL, "truncated response")];
    try {
      return [undefined, m.responseDeserialize(body.subarray(5, 5 + len))];
    } catch (e) {
      return [fail(GrpcStatus.INTERNAL, `cannot decode response: ${(e as Error).message}`)];
    }
  }

  /** Resolves once the calls made so far are on the wire (or the connection failed). */
  sent(): Promise<void> {
    return this.conn?.sent() ?? Promise.resolve();
  }

  close(): void {
    this.conn?.close();
    this.conn = undefined;
  }
}
