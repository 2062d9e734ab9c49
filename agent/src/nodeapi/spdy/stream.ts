// One stream of a SPDY connection (connection.ts): its windows and ends, the
// data it holds back, and where the peer's data goes.

/** The connection's side of a stream. */
export interface StreamOwner {
  flush(s: SpdyStream): void;
  consumed(s: SpdyStream, n: number): void;
}

export interface StreamSink {
  data(b: Buffer): void;
  /** The peer half-closed the stream (FIN). */
  end(): void;
}

export class SpdyStream {
  sendWindow: number;
  recvUnacked = 0;
  localEnded = false;
  remoteEnded = false;
  reset = false;
  readonly pending: Buffer[] = [];
  pendingFin = false;
  private sink: StreamSink | undefined;
  private backlog: (Buffer | null)[] = [];

  constructor(readonly id: number, private readonly conn: StreamOwner, window: number) {
    this.sendWindow = window;
  }

  /** Where the peer's data goes; what arrived before is handed over first. */
  attach(sink: StreamSink): void {
    this.sink = sink;
    for (const b of this.backlog.splice(0)) if (b) sink.data(b); else sink.end();
  }

  /** @internal */
  deliver(b: Buffer | null): void {
    if (!this.sink) this.backlog.push(b);
    else if (b) this.sink.data(b);
    else this.sink.end();
  }

  write(data: Buffer): void {
    if (this.localEnded || this.pendingFin || this.reset || data.length === 0) return;
    this.pending.push(data);
    this.conn.flush(this);
  }

  /** Half-close: a FIN after what is queued. */
  end(): void {
    if (this.localEnded || this.pendingFin || this.reset) return;
    this.pendingFin = true;
    this.conn.flush(this);
  }

  /** `n` bytes of the peer's data have been passed on: its window may reopen by that much. */
  consumed(n: number): void {
    this.conn.consumed(this, n);
  }
}
