// SPDY/3.1 framing (draft-mbelshe-httpbis-spdy-00 and the 3.1 addendum), the
// wire of Kubernetes' httpstream/spdy (moby/spdystream): 8-byte headers, a
// control bit, big-endian fields, 31-bit stream ids and 24-bit lengths. Only
// what a client of exec/attach needs is typed; anything else decodes as
// "unknown" so the connection can ignore it as the spec asks.

export const VERSION = 3;
export const FLAG_FIN = 0x01;
/** The window every stream and the session start with (SPDY/3.1 section 2.6.8). */
export const DEFAULT_WINDOW = 64 * 1024;
export const SETTINGS_INITIAL_WINDOW_SIZE = 7;
export const MAX_FRAME_LENGTH = 0xffffff;

export const TYPE = { SYN_STREAM: 1, SYN_REPLY: 2, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, HEADERS: 8, WINDOW_UPDATE: 9 } as const;
export const RST = { PROTOCOL_ERROR: 1, INVALID_STREAM: 2, REFUSED_STREAM: 3, CANCEL: 5, INTERNAL_ERROR: 6, FLOW_CONTROL_ERROR: 7, STREAM_ALREADY_CLOSED: 9 } as const;
export const GOAWAY = { OK: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2 } as const;

export type Frame =
  | { kind: "data"; streamId: number; fin: boolean; data: Buffer }
  | { kind: "syn_stream"; streamId: number; fin: boolean; headerBlock: Buffer }
  | { kind: "syn_reply"; streamId: number; fin: boolean; headerBlock: Buffer }
  | { kind: "headers"; streamId: number; fin: boolean; headerBlock: Buffer }
  | { kind: "rst_stream"; streamId: number; status: number }
  | { kind: "settings"; entries: { flags: number; id: number; value: number }[] }
  | { kind: "ping"; id: number }
  | { kind: "goaway"; lastStreamId: number; status: number }
  | { kind: "window_update"; streamId: number; delta: number }
  | { kind: "unknown"; type: number };

export class SpdyProtocolError extends Error {}

const id31 = (b: Buffer, at: number): number => b.readUInt32BE(at) & 0x7fffffff;

function header(first: number, second: number, flags: number, length: number): Buffer {
  if (length > MAX_FRAME_LENGTH) throw new SpdyProtocolError(`frame of ${length} bytes exceeds SPDY's 24-bit length`);
  const h = Buffer.alloc(8);
  h.writeUInt16BE(first, 0);
  h.writeUInt16BE(second, 2);
  h.writeUInt32BE(length, 4);
  h[4] = flags;
  return h;
}

export function control(type: number, flags: number, payload: Buffer): Buffer {
  return Buffer.concat([header(0x8000 | VERSION, type, flags, payload.length), payload]);
}

export function dataFrame(streamId: number, data: Buffer, fin = false): Buffer {
  return Buffer.concat([header((streamId >>> 16) & 0x7fff, streamId & 0xffff, fin ? FLAG_FIN : 0, data.length), data]);
}

function u32s(...values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i));
  return b;
}

/** SYN_STREAM: stream id, no associated stream, priority (0 highest .. 7) in the top 3 bits, slot 0. */
export function synStream(streamId: number, headerBlock: Buffer, o: { priority?: number; fin?: boolean } = {}): Buffer {
  const fixed = Buffer.concat([u32s(streamId, 0), Buffer.of(((o.priority ?? 0) & 7) << 5, 0)]);
  return control(TYPE.SYN_STREAM, o.fin ? FLAG_FIN : 0, Buffer.concat([fixed, headerBlock]));
}

export const synReply = (streamId: number, headerBlock: Buffer, fin = false): Buffer => control(TYPE.SYN_REPLY, fin ? FLAG_FIN : 0, Buffer.concat([u32s(streamId), headerBlock]));
export const rstStream = (streamId: number, status: number): Buffer => control(TYPE.RST_STREAM, 0, u32s(streamId, status));
export const ping = (id: number): Buffer => control(TYPE.PING, 0, u32s(id));
export const goAway = (lastStreamId: number, status: number): Buffer => control(TYPE.GOAWAY, 0, u32s(lastStreamId, status));
export const windowUpdate = (streamId: number, delta: number): Buffer => control(TYPE.WINDOW_UPDATE, 0, u32s(streamId, delta));

export function settings(entries: { flags?: number; id: number; value: number }[]): Buffer {
  return control(TYPE.SETTINGS, 0, u32s(entries.length, ...entries.flatMap((e) => [((e.flags ?? 0) << 24) | e.id, e.value])));
}

function need(p: Buffer, n: number, what: string): void {
  if (p.length < n) throw new SpdyProtocolError(`${what} frame of ${p.length} bytes, at least ${n} expected`);
}

function decodeControl(type: number, flags: number, p: Buffer): Frame {
  const fin = (flags & FLAG_FIN) !== 0;
  switch (type) {
    case TYPE.SYN_STREAM:
      need(p, 10, "SYN_STREAM");
      return { kind: "syn_stream", streamId: id31(p, 0), fin, headerBlock: p.subarray(10) };
    case TYPE.SYN_REPLY:
    case TYPE.HEADERS:
      need(p, 4, type === TYPE.HEADERS ? "HEADERS" : "SYN_REPLY");
      return { kind: type === TYPE.HEADERS ? "headers" : "syn_reply", streamId: id31(p, 0), fin, headerBlock: p.subarray(4) };
    case TYPE.RST_STREAM:
      need(p, 8, "RST_STREAM");
      return { kind: "rst_stream", streamId: id31(p, 0), status: p.readUInt32BE(4) };
    case TYPE.SETTINGS: {
      need(p, 4, "SETTINGS");
      const n = p.readUInt32BE(0);
      need(p, 4 + 8 * n, "SETTINGS");
      const entries = Array.from({ length: n }, (_, i) => ({ flags: p[4 + 8 * i]!, id: p.readUInt32BE(4 + 8 * i) & 0xffffff, value: p.readUInt32BE(8 + 8 * i) }));
      return { kind: "settings", entries };
    }
    case TYPE.PING:
      need(p, 4, "PING");
      return { kind: "ping", id: p.readUInt32BE(0) };
    case TYPE.GOAWAY:
      need(p, 4, "GOAWAY");
      // SPDY/2's GOAWAY had no status; SPDY/3's has one.
      return { kind: "goaway", lastStreamId: id31(p, 0), status: p.length >= 8 ? p.readUInt32BE(4) : 0 };
    case TYPE.WINDOW_UPDATE:
      need(p, 8, "WINDOW_UPDATE");
      return { kind: "window_update", streamId: id31(p, 0), delta: id31(p, 4) };
    default:
      return { kind: "unknown", type };
  }
}

/** Cuts a byte stream into frames; whatever is incomplete waits for the next chunk. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const frames: Frame[] = [];
    while (this.buf.length >= 8) {
      const length = this.buf.readUInt32BE(4) & 0xffffff;
      if (this.buf.length < 8 + length) break;
      const flags = this.buf[4]!;
      const payload = this.buf.subarray(8, 8 + length);
      if (this.buf[0]! & 0x80) {
        const version = this.buf.readUInt16BE(0) & 0x7fff;
        if (version !== VERSION) throw new SpdyProtocolError(`SPDY version ${version} frame; only ${VERSION} is spoken`);
        frames.push(decodeControl(this.buf.readUInt16BE(2), flags, payload));
      } else {
        frames.push({ kind: "data", streamId: id31(this.buf, 0), fin: (flags & FLAG_FIN) !== 0, data: payload });
      }
      this.buf = this.buf.subarray(8 + length);
    }
    return frames;
  }
}

/** An uncompressed header block: pair count, then length-prefixed names and values (several values of a name joined by NUL). */
export function encodeHeaderBlock(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [u32s(Object.keys(headers).length)];
  for (const [name, value] of Object.entries(headers)) {
    if (name === "" || name !== name.toLowerCase()) throw new SpdyProtocolError(`SPDY header names are non-empty and lower case: '${name}'`);
    const n = Buffer.from(name, "utf8");
    const v = Buffer.from(value, "utf8");
    parts.push(u32s(n.length), n, u32s(v.length), v);
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(b: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  const take = (): Buffer => {
    need(b.subarray(at), 4, "header block");
    const n = b.readUInt32BE(at);
    need(b.subarray(at + 4), n, "header block");
    at += 4 + n;
    return b.subarray(at - n, at);
  };
  need(b, 4, "header block");
  const count = b.readUInt32BE(0);
  at = 4;
  for (let i = 0; i < count; i++) {
    const name = take().toString("utf8");
    const value = take().toString("utf8");
    if (Object.hasOwn(out, name)) throw new SpdyProtocolError(`header '${name}' appears twice in one block`);
    out[name] = value;
  }
  return out;
}
