// The client end of one SPDY/3.1 connection (as Kubernetes' httpstream/spdy
// dials it): streams we open with SYN_STREAM and the peer accepts with
// SYN_REPLY, DATA both ways, FIN as half-close, RST_STREAM, PING answered,
// GOAWAY, and flow control.
//
// Flow control. moby/spdystream, the server of every kubelet and of
// containerd's streaming server, keeps no SPDY windows: it never reopens one
// (measured against containerd 1.6: a sender keeping to the 64 KiB window
// stalls for ever) and ignores WINDOW_UPDATE; client-go ignores windows too.
// So the real bound both ways is TCP's: pause() stops reading the peer, and
// `bufferedAmount`/"drain" tell how far our writes are behind. On top of that:
// - what we send is held to the peer's windows once the peer shows it keeps
//   them (it announces SETTINGS_INITIAL_WINDOW_SIZE or sends a WINDOW_UPDATE);
// - what we receive: we grant a large window up front (SETTINGS for streams,
//   a session WINDOW_UPDATE), and reopen it as the consumer passes data on,
//   but only for a peer that keeps windows. Late WINDOW_UPDATEs to spdystream
//   are worse than useless: it closes the connection right after the Status,
//   and a close with our frames still unread makes its kernel answer with a
//   TCP RST that drops the Status still queued to us (the likely cause of
//   8 MiB through `cat` losing its exit status in one of two runs while we
//   sent them; none since, in 27 runs).
import { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import { dataFrame, DEFAULT_WINDOW, encodeHeaderBlock, FrameReader, goAway, GOAWAY, ping, RST, rstStream, settings, SETTINGS_INITIAL_WINDOW_SIZE, synStream, windowUpdate, type Frame } from "./frames";
import { SpdyStream } from "./stream";
import { HeaderCodec } from "./zheaders";

export type { SpdyStream, StreamSink } from "./stream";

/** DATA frames we send carry at most this much (spdystream takes any size; small frames interleave streams fairly). */
const MAX_DATA = 32 * 1024;
/** The largest window SPDY allows (31 bits). */
export const MAX_WINDOW = 0x7fffffff;

export class SpdyConnection extends EventEmitter {
  private nextId = 1;
  private readonly streams = new Map<number, SpdyStream>();
  private readonly reader = new FrameReader();
  private readonly codec = new HeaderCodec();
  private keepsWindows = false;
  private initialWindow = DEFAULT_WINDOW;
  private sessionSendWindow = DEFAULT_WINDOW;
  private sessionRecvUnacked = 0;
  private readonly receiveWindow: number;
  private readonly awaiting = new Map<number, { resolve: () => void; reject: (why: string) => void }>();
  private closeTimer: NodeJS.Timeout | undefined;
  closed = false;

  /** `head`: what the peer sent right after its HTTP upgrade answer; `receiveWindow`: what we grant per stream and session. */
  constructor(private readonly socket: Duplex, head: Buffer = Buffer.alloc(0), o: { receiveWindow?: number } = {}) {
    super();
    this.receiveWindow = o.receiveWindow ?? MAX_WINDOW;
    this.send(settings([{ id: SETTINGS_INITIAL_WINDOW_SIZE, value: this.receiveWindow }]));
    if (this.receiveWindow > DEFAULT_WINDOW) this.send(windowUpdate(0, this.receiveWindow - DEFAULT_WINDOW));
    if (head.length) queueMicrotask(() => this.onBytes(head));
    socket.on("data", (d: Buffer) => this.onBytes(d));
    socket.on("drain", () => this.emit("drain"));
    socket.on("error", (err: Error) => this.finish(err));
    socket.on("close", () => this.finish());
  }

  /** Bytes waiting to go: in the socket, and held back by the peer's windows. */
  get bufferedAmount(): number {
    let held = 0;
    for (const s of this.streams.values()) for (const b of s.pending) held += b.length;
    return this.socket.writableLength + held;
  }

  /** Stop reading the peer (TCP backpressure); resume() reads on. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (!this.closed) this.socket.resume();
  }

  get paused(): boolean {
    return this.socket.isPaused();
  }

  /** Opens a stream with these headers; resolves once the peer replied, rejects if it refused or went away. */
  async openStream(headers: Record<string, string>): Promise<SpdyStream> {
    const block = await this.codec.compress(encodeHeaderBlock(headers));
    if (this.closed) throw new Error("the SPDY connection closed");
    // Compression keeps call order, so ids go out increasing, as the peer demands.
    const s = new SpdyStream(this.nextId, this, this.initialWindow);
    this.nextId += 2;
    this.streams.set(s.id, s);
    const replied = new Promise<SpdyStream>((resolve, reject) => {
      this.awaiting.set(s.id, { resolve: () => resolve(s), reject: (why) => reject(new Error(`SPDY stream ${headers.streamtype ?? s.id}: ${why}`)) });
    });
    this.send(synStream(s.id, block));
    return replied;
  }

  /** Ends the session: open streams cancelled, GOAWAY, then the socket (destroyed if the peer does not close it). */
  close(): void {
    if (this.closed) return;
    for (const s of this.streams.values()) if (!s.reset) this.send(rstStream(s.id, RST.CANCEL));
    this.send(goAway(0, GOAWAY.OK));
    this.socket.end();
    this.closeTimer = setTimeout(() => this.socket.destroy(), 5000);
    this.closeTimer.unref();
  }

  terminate(): void {
    this.socket.destroy();
  }

  /** @internal Sends what the stream has queued, as far as the windows allow; then its FIN. */
  flush(s: SpdyStream): void {
    while (s.pending.length && !this.closed) {
      const room = this.keepsWindows ? Math.min(s.sendWindow, this.sessionSendWindow) : Infinity;
      if (room <= 0) return;
      const head = s.pending[0]!;
      const n = Math.min(head.length, room, MAX_DATA);
      if (n === head.length) s.pending.shift();
      else s.pending[0] = head.subarray(n);
      s.sendWindow -= n;
      this.sessionSendWindow -= n;
      this.send(dataFrame(s.id, head.subarray(0, n)));
    }
    if (s.pendingFin && !s.localEnded && !this.closed) {
      s.localEnded = true;
      this.send(dataFrame(s.id, Buffer.alloc(0), true));
      this.forget(s);
    }
  }

  /** @internal */
  consumed(s: SpdyStream, n: number): void {
    if (this.closed) return;
    s.recvUnacked += n;
    this.sessionRecvUnacked += n;
    if (!this.keepsWindows) return;
    // Updates in halves of the window, as SPDY implementations do, not one per frame.
    if (s.recvUnacked >= this.receiveWindow / 2 && !s.remoteEnded && !s.reset) {
      this.send(windowUpdate(s.id, s.recvUnacked));
      s.recvUnacked = 0;
    }
    if (this.sessionRecvUnacked >= this.receiveWindow / 2) {
      this.send(windowUpdate(0, this.sessionRecvUnacked));
      this.sessionRecvUnacked = 0;
    }
  }

  private send(b: Buffer): void {
    if (!this.closed && !this.socket.destroyed && this.socket.writable) this.socket.write(b);
  }

  private onBytes(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      this.send(goAway(0, GOAWAY.PROTOCOL_ERROR));
      this.socket.destroy(err as Error);
      return;
    }
    for (const f of frames) this.onFrame(f);
  }

  private onFrame(f: Frame): void {
    switch (f.kind) {
      case "data": {
        const s = this.streams.get(f.streamId);
        if (!s || s.remoteEnded) return void this.send(rstStream(f.streamId, s ? RST.STREAM_ALREADY_CLOSED : RST.INVALID_STREAM));
        if (f.data.length) s.deliver(f.data);
        if (f.fin) this.remoteEnd(s);
        return;
      }
      case "syn_reply":
      case "headers": {
        // Their headers mean nothing to exec, but the shared inflate context must see every block.
        this.codec.decompress(f.headerBlock).catch((err: Error) => this.socket.destroy(err));
        const s = this.streams.get(f.streamId);
        if (!s) return;
        if (f.kind === "syn_reply") {
          this.awaiting.get(s.id)?.resolve();
          this.awaiting.delete(s.id);
        }
        if (f.fin) this.remoteEnd(s);
        return;
      }
      case "syn_stream":
        // Server push: nothing in exec uses it.
        this.codec.decompress(f.headerBlock).catch((err: Error) => this.socket.destroy(err));
        return void this.send(rstStream(f.streamId, RST.REFUSED_STREAM));
      case "rst_stream": {
        const s = this.streams.get(f.streamId);
        if (!s) return;
        s.reset = true;
        s.pending.length = 0;
        this.forget(s, `reset by the peer (status ${f.status})`);
        return;
      }
      case "settings":
        for (const e of f.entries) {
          if (e.id !== SETTINGS_INITIAL_WINDOW_SIZE) continue;
          this.startKeepingWindows();
          for (const s of this.streams.values()) s.sendWindow += e.value - this.initialWindow;
          this.initialWindow = e.value;
        }
        return this.flushAll();
      case "window_update": {
        this.startKeepingWindows();
        if (f.streamId === 0) this.sessionSendWindow += f.delta;
        else {
          const s = this.streams.get(f.streamId);
          if (s) s.sendWindow += f.delta;
        }
        return this.flushAll();
      }
      case "ping":
        // Ours would be odd; an even id is the peer's, to be echoed.
        if (f.id % 2 === 0) this.send(ping(f.id));
        return;
      case "goaway":
        for (const s of this.streams.values()) if (s.id > f.lastStreamId) this.forget(s, "the peer went away before accepting it");
        this.emit("goaway", f.status);
        return;
      case "unknown":
        return;
    }
  }

  private startKeepingWindows(): void {
    if (this.keepsWindows) return;
    // What went out before the peer showed it keeps windows is not held against it.
    this.keepsWindows = true;
    this.sessionSendWindow = Math.max(this.sessionSendWindow, 0);
    for (const s of this.streams.values()) s.sendWindow = Math.max(s.sendWindow, 0);
  }

  private flushAll(): void {
    for (const s of this.streams.values()) if (s.pending.length || s.pendingFin) this.flush(s);
    this.emit("drain");
  }

  private remoteEnd(s: SpdyStream): void {
    s.remoteEnded = true;
    s.deliver(null);
    this.forget(s);
  }

  /** A stream done both ways (or reset) is dropped; one that never got its reply is refused. */
  private forget(s: SpdyStream, why?: string): void {
    if (why) {
      this.awaiting.get(s.id)?.reject(why);
      this.awaiting.delete(s.id);
    }
    if ((s.localEnded && s.remoteEnded) || s.reset || why) this.streams.delete(s.id);
  }

  private finish(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.closeTimer);
    for (const a of this.awaiting.values()) a.reject(err ? err.message : "the connection closed");
    this.awaiting.clear();
    this.streams.clear();
    this.codec.close();
    this.socket.destroy();
    this.emit("close", err);
  }
}
