// A minimal gRPC unary client over node:http2 (gRPC's HTTP/2 wire protocol:
// length-prefixed messages, grpc-status/grpc-message trailers, grpc-timeout).
// Why not @grpc/grpc-js: measured here it costs ~20 ms to load and ~20 ms to
// set up its first call, twice per ADD+DEL, in a process that lives for one
// verb. The stand-in server is grpc-js, so interop is tested on every call.
import { connect, constants, type ClientHttp2Session, type SecureClientSessionOptions } from "node:http2";
import { connect as netConnect } from "node:net";
import { GrpcCallError, GrpcStatus } from "@plasmacloud/common/grpc";

export interface TransportOptions {
  /** "host:port" or "unix:/path". */
  addr: string;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; serverName?: string };
}

export interface UnaryMethod<Req, Res> {
  path: string;
  requestSerialize: (r: Req) => Buffer;
  responseDeserialize: (b: Buffer) => Res;
}

export class GrpcTransport {
  private session: ClientHttp2Session | undefined;

  constructor(private readonly opts: TransportOptions) {}

  private connect(): ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const { addr, tls } = this.opts;
    const unix = addr.startsWith("unix:") ? addr.slice(5).replace(/^\/\/(?=\/)/, "") : undefined;
    const authority = unix ? "localhost" : addr;
    const options: SecureClientSessionOptions = {};
    if (unix) options.createConnection = () => netConnect(unix);
    if (tls) Object.assign(options, { ca: tls.ca, cert: tls.cert, key: tls.key, servername: tls.serverName, ALPNProtocols: ["h2"] });
    const s = connect(`${tls ? "https" : "http"}://${authority}`, options);
    s.on("error", () => undefined); // surfaced through the pending request
    this.session = s;
    return s;
  }

  /** One call; a failure (transport or status) rejects with GrpcCallError. */
  unary<Req, Res>(m: UnaryMethod<Req, Res>, req: Req, metadata: Record<string, string>, timeoutMs: number): Promise<Res> {
    const method = m.path.slice(m.path.lastIndexOf("/") + 1);
    const fail = (code: number, details: string): GrpcCallError => new GrpcCallError(method, code, details, { addr: this.opts.addr });
    return new Promise((resolve, reject) => {
      let stream;
      try {
        stream = this.connect().request({
          ":method": "POST", ":path": m.path, "content-type": "application/grpc+proto", te: "trailers",
          "grpc-timeout": `${Math.max(1, Math.ceil(timeoutMs))}m`, ...metadata,
        });
      } catch (e) {
        reject(fail(GrpcStatus.UNAVAILABLE, (e as Error).message));
        return;
      }
      let settled = false;
      const finish = (err: GrpcCallError | undefined, res?: Res): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(res as Res);
      };
      const timer = setTimeout(() => {
        stream.close(constants.NGHTTP2_CANCEL);
        finish(fail(GrpcStatus.DEADLINE_EXCEEDED, `deadline of ${timeoutMs} ms exceeded`));
      }, timeoutMs);
      const chunks: Buffer[] = [];
      let status: number | undefined;
      let message = "";
      const readStatus = (h: Record<string, unknown>): void => {
        if (h["grpc-status"] !== undefined) {
          status = Number(h["grpc-status"]);
          message = decodeURIComponent(String(h["grpc-message"] ?? ""));
        }
      };
      stream.on("response", (h) => {
        const httpStatus = Number(h[":status"]);
        if (httpStatus !== 200) finish(fail(GrpcStatus.UNAVAILABLE, `HTTP status ${httpStatus}`));
        readStatus(h); // trailers-only responses carry the status here
      });
      stream.on("trailers", (h) => readStatus(h));
      stream.on("data", (b: Buffer) => chunks.push(b));
      stream.on("error", (e: Error) => finish(fail(GrpcStatus.UNAVAILABLE, e.message)));
      stream.on("close", () => {
        if (status === undefined) return finish(fail(GrpcStatus.UNAVAILABLE, "stream closed without grpc-status"));
        if (status !== GrpcStatus.OK) return finish(fail(status, message));
        const body = Buffer.concat(chunks);
        if (body.length < 5 || body[0] !== 0) return finish(fail(GrpcStatus.INTERNAL, "malformed or compressed response"));
        const len = body.readUInt32BE(1);
        try {
          finish(undefined, m.responseDeserialize(body.subarray(5, 5 + len)));
        } catch (e) {
          finish(fail(GrpcStatus.INTERNAL, `cannot decode response: ${(e as Error).message}`));
        }
      });
      const msg = m.requestSerialize(req);
      const head = Buffer.alloc(5);
      head.writeUInt32BE(msg.length, 1);
      stream.end(Buffer.concat([head, msg]));
    });
  }

  close(): void {
    this.session?.close();
    this.session = undefined;
  }
}
