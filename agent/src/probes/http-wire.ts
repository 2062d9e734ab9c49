// A plain-HTTP GET written straight onto a TCP socket, for probes and hooks.
// node:http builds a ClientRequest, an agent socket, a pooled parser and
// header objects for every request; a probe needs one request line, a status
// code, a Location and at most 10 KiB of body, on a connection it closes at
// once. With 110 pods probed every 10 s that difference is most of the
// probes' own CPU (the rest is the kernel's connect and write, which the
// kubelet pays too). HTTPS stays on node:https (http.ts).
import { connect, type Socket } from "node:net";
import { CodedError } from "@plasmacloud/common/errors";

export interface WireResponse {
  status: number;
  location: string | undefined;
  body: string;
}

/** Bytes a response's status line and headers may take (Go's default MaxResponseHeaderBytes is 1 MiB; a probe needs far less). */
const MAX_HEADER_BYTES = 64 * 1024;
/** What node:http refuses in a header value (ERR_INVALID_CHAR): a CR or LF would smuggle a header or a request. */
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** The request head: Host from the URL unless the user set one, then the headers as given. */
export function requestHead(url: URL, headers: ReadonlyArray<readonly [string, string]>): string {
  const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`];
  if (!headers.some(([n]) => n === "host")) lines.push(`Host: ${url.host}`);
  for (const [name, value] of headers) {
    if (BAD_VALUE.test(value)) throw new CodedError("InvalidArgument", `invalid character in the value of header "${name}"`);
    lines.push(`${name}: ${value}`);
  }
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/**
 * Reads a response as it arrives; `done` is set once the status, headers and
 * the body up to `maxBody` (or its end) are in. Framing: chunked, a
 * Content-Length, or the connection's close (the request asked for close).
 */
export class ResponseReader {
  done: WireResponse | undefined;
  private buf: Buffer = Buffer.alloc(0);
  private head: { status: number; location: string | undefined; chunked: boolean; length: number | undefined; bodyAt: number } | undefined;

  constructor(private readonly maxBody: number) {}

  push(data: Buffer): void {
    if (this.done) return;
    this.buf = this.buf.length === 0 ? data : Buffer.concat([this.buf, data]);
    if (!this.head) {
      const end = this.buf.indexOf("\r\n\r\n");
      if (end < 0) {
        if (this.buf.length > MAX_HEADER_BYTES) throw new CodedError("Unavailable", "response headers too large");
        return;
      }
      this.head = parseHead(this.buf.subarray(0, end).toString("latin1"), end + 4);
    }
    this.tryFinish(false);
  }

  /** The connection ended: what arrived is the response (a body read to its close). */
  end(): WireResponse {
    if (!this.done && !this.head) throw new CodedError("Unavailable", this.buf.length ? "malformed HTTP response" : "EOF");
    this.tryFinish(true);
    return this.done!;
  }

  private tryFinish(closed: boolean): void {
    const h = this.head!;
    const raw = this.buf.subarray(h.bodyAt);
    let body: Buffer | undefined;
    if (h.chunked) body = dechunk(raw, this.maxBody, closed);
    else if (h.length !== undefined) body = raw.length >= Math.min(h.length, this.maxBody) || closed ? raw.subarray(0, Math.min(h.length, this.maxBody)) : undefined;
    else body = raw.length >= this.maxBody || closed ? raw : undefined;
    if (body) this.done = { status: h.status, location: h.location, body: body.subarray(0, this.maxBody).toString("utf8") };
  }
}

function parseHead(text: string, bodyAt: number): NonNullable<ResponseReader["head"]> {
  const lines = text.split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0] ?? "");
  if (!m) throw new CodedError("Unavailable", `malformed HTTP response: ${JSON.stringify((lines[0] ?? "").slice(0, 64))}`);
  let location: string | undefined;
  let chunked = false;
  let length: number | undefined;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "location") location ??= value;
    else if (name === "transfer-encoding") chunked = /(^|,)\s*chunked\s*$/i.test(value);
    else if (name === "content-length" && /^\d+$/.test(value)) length = Number(value);
  }
  const status = Number(m[1]);
  // No body, whatever the headers say (RFC 9112 6.3).
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) length = 0;
  return { status, location, chunked: chunked && length !== 0, length: chunked ? undefined : length, bodyAt };
}

/** The chunked body's data up to `max` bytes; undefined while more is needed. */
function dechunk(raw: Buffer, max: number, closed: boolean): Buffer | undefined {
  const parts: Buffer[] = [];
  let size = 0;
  let at = 0;
  for (;;) {
    const eol = raw.indexOf("\r\n", at);
    if (eol < 0) return closed ? Buffer.concat(parts) : undefined;
    const n = parseInt(raw.subarray(at, eol).toString("latin1"), 16);
    if (!Number.isFinite(n)) throw new CodedError("Unavailable", "malformed chunked body");
    if (n === 0) return Buffer.concat(parts);
    const data = raw.subarray(eol + 2, eol + 2 + n);
    parts.push(data);
    size += data.length;
    if (size >= max) return Buffer.concat(parts);
    if (data.length < n) return closed ? Buffer.concat(parts) : undefined;
    at = eol + 2 + n + 2;
  }
}

/** Where a GET goes and its request bytes: built once per probe target, sent on every run. */
export interface WireTarget {
  host: string;
  port: number;
  head: string;
}

export function wireTarget(url: URL, headers: ReadonlyArray<readonly [string, string]>): WireTarget {
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port: Number(url.port || 80), head: requestHead(url, headers) };
}

/** A deadline that passed: the error's name, as AbortSignal.timeout's. */
export const timeoutError = (): Error => Object.assign(new Error("timeout"), { name: "TimeoutError" });

/**
 * One GET over a new connection, closed as soon as the response is read.
 * `timeoutMs` bounds the whole exchange with a plain timer (an AbortSignal
 * per run would cost an EventTarget and its listeners on every probe);
 * `signal` is for callers that cancel from outside (lifecycle hooks).
 */
export function wireGet(t: WireTarget, maxBody: number, timeoutMs = 0, signal?: AbortSignal): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const reader = new ResponseReader(maxBody);
    let sock: Socket | undefined;
    let timer: NodeJS.Timeout | undefined;
    const finish = (err: unknown, res?: WireResponse): void => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      sock?.destroy();
      if (res) resolve(res);
      else reject(err);
    };
    const onAbort = (): void => finish(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (timeoutMs > 0) timer = setTimeout(() => finish(timeoutError()), timeoutMs);
    // write, not end: a half-closed request makes some servers drop it unanswered.
    sock = connect({ host: t.host, port: t.port, noDelay: true }, () => sock!.write(t.head, "latin1"));
    sock.on("data", (d: Buffer) => {
      try {
        reader.push(d);
      } catch (err) {
        return finish(err);
      }
      if (reader.done) finish(undefined, reader.done);
    });
    sock.on("end", () => {
      try {
        finish(undefined, reader.end());
      } catch (err) {
        finish(err);
      }
    });
    sock.on("error", (err) => finish(err));
  });
}
