// SPDY/3 header compression: one zlib stream per direction for the life of the
// connection, primed with the SPDY dictionary, each header block ending on a
// sync flush (so it is complete on its own while later blocks still refer back
// to it). node:zlib streams are asynchronous; each direction runs its blocks
// one at a time, in order, so the shared context stays in step with the peer's.
import { constants, createDeflate, createInflate, type Deflate, type Inflate } from "node:zlib";
import { HEADER_DICTIONARY } from "./dictionary";

class Context {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly z: Deflate | Inflate) {
    // Errors surface through the pending block's promise; the stream itself must not throw unhandled.
    z.on("error", () => undefined);
  }

  /** This block through the shared stream; resolves with exactly its output. */
  run(block: Buffer): Promise<Buffer> {
    const next = this.chain.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          const out: Buffer[] = [];
          const onData = (d: Buffer): void => void out.push(d);
          const onError = (err: Error): void => {
            this.z.off("data", onData);
            reject(err);
          };
          this.z.on("data", onData);
          this.z.once("error", onError);
          this.z.write(block);
          // The flush's callback runs once its output has been pushed (and so emitted: the stream flows).
          this.z.flush(constants.Z_SYNC_FLUSH, () => {
            this.z.off("data", onData);
            this.z.off("error", onError);
            resolve(Buffer.concat(out));
          });
        }),
    );
    this.chain = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.z.close();
  }
}

export class HeaderCodec {
  private readonly deflate = new Context(createDeflate({ dictionary: HEADER_DICTIONARY }));
  private readonly inflate = new Context(createInflate({ dictionary: HEADER_DICTIONARY }));

  /** Our next header block, compressed: send in the order the calls were made. */
  compress(block: Buffer): Promise<Buffer> {
    return this.deflate.run(block);
  }

  /** The peer's next header block, in the order it arrived. */
  decompress(block: Buffer): Promise<Buffer> {
    return this.inflate.run(block);
  }

  close(): void {
    this.deflate.close();
    this.inflate.close();
  }
}
