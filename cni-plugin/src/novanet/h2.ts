// A minimal HTTP/2 client connection (RFC 9113) with its HPACK (RFC 7541),
// just enough for unary gRPC: requests are one HEADERS + one DATA frame,
// responses are collected whole. Why not node:http2: novanet lives for one
// verb, and loading node:http2 and setting up its session cost ~8 ms a run
// under bun (see README.md); this file and a plain socket cost well under
// one. What it does not do, it refuses loudly: server push is disabled, a
// response over MAX_RESPONSE bytes is an error, bytes outside printable ASCII
// in a Huffman-coded header are an error (huffman.ts).
import { HUFFMAN } from "./huffman.js";

/** The byte stream under the connection (socket.ts). */
export interface ByteStream {
  write(b: Uint8Array): void;
  close(): void;
  /** Resolves once what was written so far is on the wire, or the stream failed. */
  sent(): Promise<void>;
}

export type Header = [name: string, value: string];

export interface Response {
  /** The response's header block, then its trailers (gRPC puts the status there). */
  headers: Header[];
  trailers: Header[];
  body: Buffer;
}

/** A failure of the connection or of one stream, before a complete response. */
export class H2Error extends Error {}

export const MAX_RESPONSE = 4 << 20; // gRPC's default receive limit

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const T = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PUSH_PROMISE: 5, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
const F = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;
const WINDOW = 1 << 24; // our receive window, per stream and (after one update) per connection
const MAX_FRAME = 16384; // the peer's default SETTINGS_MAX_FRAME_SIZE: we never send more

function frame(type: number, flags: number, stream: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([h, payload]);
}

// ---- HPACK ------------------------------------------------------------------

// RFC 7541 appendix A.
const STATIC: readonly Header[] = [
  [":authority", ""], [":method", "GET"], [":method", "POST"], [":path", "/"], [":path", "/index.html"], [":scheme", "http"],
  [":scheme", "https"], [":status", "200"], [":status", "204"], [":status", "206"], [":status", "304"], [":status", "400"],
  [":status", "404"], [":status", "500"], ["accept-charset", ""], ["accept-encoding", "gzip, deflate"], ["accept-language", ""],
  ["accept-ranges", ""], ["accept", ""], ["access-control-allow-origin", ""], ["age", ""], ["allow", ""], ["authorization", ""],
  ["cache-control", ""], ["content-disposition", ""], ["content-encoding", ""], ["content-language", ""], ["content-length", ""],
  ["content-location", ""], ["content-range", ""], ["content-type", ""], ["cookie", ""], ["date", ""], ["etag", ""], ["expect", ""],
  ["expires", ""], ["from", ""], ["host", ""], ["if-match", ""], ["if-modified-since", ""], ["if-none-match", ""], ["if-range", ""],
  ["if-unmodified-since", ""], ["last-modified", ""], ["link", ""], ["location", ""], ["max-forwards", ""], ["proxy-authenticate", ""],
  ["proxy-authorization", ""], ["range", ""], ["referer", ""], ["refresh", ""], ["retry-after", ""], ["server", ""], ["set-cookie", ""],
  ["strict-transport-security", ""], ["transfer-encoding", ""], ["user-agent", ""], ["vary", ""], ["via", ""], ["www-authenticate", ""],
];
const STATIC_NAME = new Map<string, number>();
STATIC.forEach(([n], i) => { if (!STATIC_NAME.has(n)) STATIC_NAME.set(n, i + 1); });

function encodeInt(out: number[], first: number, prefixBits: number, v: number): void {
  const max = (1 << prefixBits) - 1;
  if (v < max) return void out.push(first | v);
  out.push(first | max);
  v -= max;
  while (v >= 128) {
    out.push((v % 128) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

function encodeString(out: number[], s: string): void {
  const b = Buffer.from(s, "latin1");
  encodeInt(out, 0, 7, b.length); // never Huffman: smaller code, and the peer decodes both
  for (const x of b) out.push(x);
}

/**
 * Our header block. Nothing is added to the peer's dynamic table (the
 * connection carries a few requests at most); `secret` headers are sent
 * "never indexed", so no intermediary may put them in a table either.
 */
export function encodeHeaders(headers: readonly Header[], secret: ReadonlySet<string> = new Set()): Buffer {
  const out: number[] = [];
  for (const [name, value] of headers) {
    const full = STATIC.findIndex(([n, v]) => n === name && v === value);
    if (full >= 0 && !secret.has(name)) {
      encodeInt(out, 0x80, 7, full + 1); // indexed field
      continue;
    }
    const idx = STATIC_NAME.get(name) ?? 0;
    encodeInt(out, secret.has(name) ? 0x10 : 0x00, 4, idx); // literal without indexing / never indexed
    if (!idx) encodeString(out, name);
    encodeString(out, value);
  }
  return Buffer.from(out);
}

// Huffman decoding: codes looked up by (code, length) as the bits come.
const HUFF = new Map<number, number>();
for (const [sym, code, len] of HUFFMAN) HUFF.set(code * 32 + len, sym);

export function huffmanDecode(b: Uint8Array): string {
  let out = "";
  let code = 0;
  let len = 0;
  for (const byte of b) {
    for (let bit = 7; bit >= 0; bit--) {
      code = code * 2 + ((byte >> bit) & 1);
      len++;
      const sym = HUFF.get(code * 32 + len);
      if (sym !== undefined) {
        out += String.fromCharCode(sym);
        code = 0;
        len = 0;
      } else if (len > 30) throw new H2Error("HPACK: undecodable Huffman string (only printable ASCII is supported)");
    }
  }
  // Padding: at most 7 bits, all ones (a prefix of EOS).
  if (len > 7 || code !== 2 ** len - 1) throw new H2Error("HPACK: bad Huffman padding or a byte outside printable ASCII");
  return out;
}

/** The peer's header blocks, decoded in order (the dynamic table is per connection). */
export class HpackDecoder {
  private table: Header[] = []; // newest first
  private size = 0;
  private maxSize = 4096;

  private entry(index: number): Header {
    if (index <= 0) throw new H2Error("HPACK: index 0");
    if (index <= STATIC.length) return STATIC[index - 1] as Header;
    const e = this.table[index - STATIC.length - 1];
    if (!e) throw new H2Error(`HPACK: index ${index} beyond the table`);
    return e;
  }

  private evict(): void {
    while (this.size > this.maxSize) {
      const e = this.table.pop() as Header;
      this.size -= e[0].length + e[1].length + 32;
    }
  }

  decode(block: Uint8Array): Header[] {
    let i = 0;
    const int = (prefixBits: number): number => {
      if (i >= block.length) throw new H2Error("HPACK: truncated");
      const max = (1 << prefixBits) - 1;
      let v = (block[i++] as number) & max;
      if (v < max) return v;
      let m = 1;
      for (;;) {
        if (i >= block.length) throw new H2Error("HPACK: truncated integer");
        const b = block[i++] as number;
        v += (b & 0x7f) * m;
        m *= 128;
        if (b < 0x80) return v;
        if (m > 2 ** 28) throw new H2Error("HPACK: integer too large");
      }
    };
    const str = (): string => {
      if (i >= block.length) throw new H2Error("HPACK: truncated");
      const huff = ((block[i] as number) & 0x80) !== 0;
      const len = int(7);
      if (i + len > block.length) throw new H2Error("HPACK: truncated string");
      const raw = block.subarray(i, i + len);
      i += len;
      return huff ? huffmanDecode(raw) : Buffer.from(raw).toString("latin1");
    };
    const out: Header[] = [];
    while (i < block.length) {
      const b = block[i] as number;
      if (b & 0x80) {
        out.push(this.entry(int(7)));
      } else if ((b & 0xe0) === 0x20) {
        const size = int(5);
        if (size > 4096) throw new H2Error("HPACK: table size update above our limit");
        this.maxSize = size;
        this.evict();
      } else {
        const incremental = (b & 0xc0) === 0x40;
        const idx = int(incremental ? 6 : 4);
        const name = idx ? this.entry(idx)[0] : str();
        const h: Header = [name, str()];
        out.push(h);
        if (incremental) {
          this.table.unshift(h);
          this.size += name.length + h[1].length + 32;
          this.evict();
        }
      }
    }
    return out;
  }
}

// ---- the connection -----------------------------------------------------------

interface Stream {
  headers: Header[] | undefined;
  trailers: Header[];
  data: Buffer[];
  size: number;
  done: (err: H2Error | undefined, res?: Response) => void;
}

export class H2Connection {
  private readonly streams = new Map<number, Stream>();
  private readonly hpack = new HpackDecoder();
  private nextId = 1;
  private inbuf: Buffer = Buffer.alloc(0);
  private continuing: number | undefined; // stream whose header block awaits CONTINUATION
  private consumed = 0;
  private failed: H2Error | undefined;
  private goawayAfter = Infinity;
  private readonly io: ByteStream;

  /** `open` gets the connection's two callbacks and returns the byte stream (writes may start at once). */
  constructor(open: (onData: (b: Buffer) => void, onClose: (err?: Error) => void) => ByteStream) {
    this.io = open((b) => this.receive(b), (err) => this.fail(new H2Error(err ? err.message : "connection closed")));
    const settings = Buffer.alloc(12);
    settings.writeUInt16BE(0x2, 0); // ENABLE_PUSH
    settings.writeUInt32BE(0, 2);
    settings.writeUInt16BE(0x4, 6); // INITIAL_WINDOW_SIZE
    settings.writeUInt32BE(WINDOW, 8);
    const wu = Buffer.alloc(4);
    wu.writeUInt32BE(WINDOW - 65535, 0);
    this.io.write(Buffer.concat([PREFACE, frame(T.SETTINGS, 0, 0, settings), frame(T.WINDOW_UPDATE, 0, 0, wu)]));
  }

  /** Sends one request (headers, then body with END_STREAM); `done` gets the whole response or the failure. Returns a cancel function. */
  request(headers: Buffer, body: Buffer, done: Stream["done"]): () => void {
    if (this.failed) {
      done(this.failed);
      return () => undefined;
    }
    const id = this.nextId;
    this.nextId += 2;
    if (id > this.goawayAfter) {
      done(new H2Error("connection is going away"));
      return () => undefined;
    }
    this.streams.set(id, { headers: undefined, trailers: [], data: [], size: 0, done });
    if (headers.length > MAX_FRAME || body.length > 65535) throw new H2Error("request too large for this client");
    const frames = [frame(T.HEADERS, F.END_HEADERS | (body.length ? 0 : F.END_STREAM), id, headers)];
    for (let at = 0; at < body.length; at += MAX_FRAME) {
      const last = at + MAX_FRAME >= body.length;
      frames.push(frame(T.DATA, last ? F.END_STREAM : 0, id, body.subarray(at, at + MAX_FRAME)));
    }
    this.io.write(Buffer.concat(frames));
    return () => {
      if (!this.streams.delete(id)) return;
      const code = Buffer.alloc(4);
      code.writeUInt32BE(0x8, 0); // CANCEL
      if (!this.failed) this.io.write(frame(T.RST_STREAM, 0, id, code));
    };
  }

  /** Resolves once the requests made so far are on the wire (or the connection failed). */
  sent(): Promise<void> {
    return this.io.sent();
  }

  close(): void {
    if (!this.failed) {
      const p = Buffer.alloc(8); // GOAWAY: last stream 0, NO_ERROR
      this.io.write(frame(T.GOAWAY, 0, 0, p));
    }
    this.fail(new H2Error("connection closed by the client"));
    this.io.close();
  }

  private fail(err: H2Error): void {
    this.failed ??= err;
    const pending = [...this.streams.values()];
    this.streams.clear();
    for (const s of pending) s.done(err);
  }

  private finish(id: number): void {
    const s = this.streams.get(id);
    if (!s) return;
    this.streams.delete(id);
    s.done(undefined, { headers: s.headers ?? [], trailers: s.trailers, body: Buffer.concat(s.data) });
  }

  private receive(chunk: Buffer): void {
    this.inbuf = this.inbuf.length ? Buffer.concat([this.inbuf, chunk]) : chunk;
    try {
      while (this.inbuf.length >= 9) {
        const len = this.inbuf.readUIntBE(0, 3);
        if (this.inbuf.length < 9 + len) break;
        const type = this.inbuf[3] as number;
        const flags = this.inbuf[4] as number;
        const id = this.inbuf.readUInt32BE(5) & 0x7fffffff;
        const payload = this.inbuf.subarray(9, 9 + len);
        this.inbuf = this.inbuf.subarray(9 + len);
        this.onFrame(type, flags, id, payload);
      }
    } catch (e) {
      const err = e instanceof H2Error ? e : new H2Error((e as Error).message);
      this.fail(err);
      this.io.close();
    }
  }

  private unpad(flags: number, p: Buffer): Buffer {
    if (!(flags & F.PADDED)) return p;
    const pad = p[0] as number;
    if (pad >= p.length) throw new H2Error("bad padding");
    return p.subarray(1, p.length - pad);
  }

  private onFrame(type: number, flags: number, id: number, p: Buffer): void {
    if (this.continuing !== undefined && type !== T.CONTINUATION) throw new H2Error("expected CONTINUATION");
    switch (type) {
      case T.DATA: {
        const s = this.streams.get(id);
        this.consumed += p.length;
        if (this.consumed > WINDOW / 2) { // give the connection window back in big steps
          const wu = Buffer.alloc(4);
          wu.writeUInt32BE(this.consumed, 0);
          this.io.write(frame(T.WINDOW_UPDATE, 0, 0, wu));
          this.consumed = 0;
        }
        if (!s) return; // cancelled
        const data = this.unpad(flags, p);
        s.size += data.length;
        if (s.size > MAX_RESPONSE) {
          this.streams.delete(id);
          s.done(new H2Error(`response larger than ${MAX_RESPONSE} bytes`));
          return;
        }
        s.data.push(Buffer.from(data));
        if (flags & F.END_STREAM) this.finish(id);
        return;
      }
      case T.HEADERS: {
        let b = this.unpad(flags, p);
        if (flags & F.PRIORITY) b = b.subarray(5);
        this.headerFragment(id, flags, b, flags & F.END_STREAM ? 1 : 0);
        return;
      }
      case T.CONTINUATION:
        if (id !== this.continuing) throw new H2Error("CONTINUATION on the wrong stream");
        this.headerFragment(id, flags, p, -1);
        return;
      case T.RST_STREAM: {
        const s = this.streams.get(id);
        if (!s) return;
        this.streams.delete(id);
        s.done(new H2Error(`stream reset by the server (code ${p.length >= 4 ? p.readUInt32BE(0) : "?"})`));
        return;
      }
      case T.SETTINGS:
        if (!(flags & F.ACK)) this.io.write(frame(T.SETTINGS, F.ACK, 0));
        return;
      case T.PING:
        if (!(flags & F.ACK)) this.io.write(frame(T.PING, F.ACK, 0, p));
        return;
      case T.GOAWAY: {
        const last = p.readUInt32BE(0) & 0x7fffffff;
        this.goawayAfter = last;
        for (const sid of [...this.streams.keys()]) {
          if (sid <= last) continue;
          const s = this.streams.get(sid) as Stream;
          this.streams.delete(sid);
          s.done(new H2Error(`server going away (code ${p.length >= 8 ? p.readUInt32BE(4) : "?"})`));
        }
        return;
      }
      case T.PUSH_PROMISE:
        throw new H2Error("PUSH_PROMISE although push is disabled");
      default:
        return; // WINDOW_UPDATE (our requests fit the initial window), PRIORITY, unknown types
    }
  }

  /**
   * A header block comes as HEADERS plus CONTINUATIONs, never interleaved
   * with other frames, so one block is in progress per connection at most.
   */
  private block: { id: number; parts: Buffer[]; endStream: boolean } | undefined;

  private headerFragment(id: number, flags: number, fragment: Buffer, endStream: number): void {
    if (endStream >= 0) this.block = { id, parts: [], endStream: endStream === 1 };
    const block = this.block as NonNullable<typeof this.block>;
    block.parts.push(Buffer.from(fragment));
    if (!(flags & F.END_HEADERS)) {
      this.continuing = id;
      return;
    }
    this.continuing = undefined;
    this.block = undefined;
    // Decoded even for a cancelled stream: the dynamic table must stay in step.
    const headers = this.hpack.decode(Buffer.concat(block.parts));
    const s = this.streams.get(id);
    if (!s) return;
    if (!s.headers) s.headers = headers;
    else s.trailers = headers;
    if (block.endStream) this.finish(id);
  }
}

