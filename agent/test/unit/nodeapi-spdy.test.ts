// The SPDY/3.1 client of the node API (nodeapi/spdy): frames against known
// bytes and through any split, header blocks against what containerd 1.6
// (moby/spdystream's Go framer) really sent, and the connection's flow control
// against a scripted peer on loopback.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type AddressInfo, type Socket, connect } from "node:net";
import { parseStatus } from "../../src/nodeapi/channels";
import { MAX_WINDOW, SpdyConnection } from "../../src/nodeapi/spdy/connection";
import { HEADER_DICTIONARY } from "../../src/nodeapi/spdy/dictionary";
import { dataFrame, decodeHeaderBlock, encodeHeaderBlock, FrameReader, goAway, ping, RST, rstStream, settings, synReply, synStream, windowUpdate, type Frame } from "../../src/nodeapi/spdy/frames";
import { HeaderCodec } from "../../src/nodeapi/spdy/zheaders";

// containerd 1.6.20 answering `sh -c 'echo hi; exit 2'` with streams error (1) and stdout (3): two SYN_REPLYs,
// stdout's data and FIN, the v4 Status on the error stream, RST_STREAM CANCEL, GOAWAY OK.
const CAPTURE = Buffer.from(
  "80030002000000140000000178f9e3c6a7c26260606000000000ffff800300020000000c00000003026100000000ffff000000030000000368690a00000003010000000000000100" +
    "0000ed7b226d65746164617461223a7b7d2c22737461747573223a224661696c757265222c226d657373616765223a22636f6d6d616e64207465726d696e617465642077697468206e6f6e2d7a65726f206578697420636f64653a206572726f7220657865637574696e6720636f6d6d616e64205b7368202d63206563686f2068693b206578697420325d2c206578697420636f64652032222c22726561736f6e223a224e6f6e5a65726f45786974436f6465222c2264657461696c73223a7b22636175736573223a5b7b22726561736f6e223a2245786974436f6465222c226d657373616765223a2232227d5d7d7d" +
    "8003000300000008000000010000000580030007000000080000000300000000",
  "hex",
);

const hex = (b: Buffer): string => b.toString("hex");

test("frames have SPDY/3's layout (as containerd writes RST_STREAM and GOAWAY) and decode back", () => {
  assert.equal(hex(rstStream(1, RST.CANCEL)), "80030003000000080000000100000005");
  assert.equal(hex(goAway(3, 0)), "800300070000000800000003" + "00000000");
  assert.equal(hex(dataFrame(3, Buffer.from("hi\n"))), "000000030000000368690a");
  assert.equal(hex(dataFrame(3, Buffer.alloc(0), true)), "0000000301000000");
  assert.equal(hex(windowUpdate(0, 32768)), "80030009000000080000000000008000");
  assert.equal(hex(encodeHeaderBlock({ streamtype: "error" })), "00000001" + "0000000a" + hex(Buffer.from("streamtype")) + "00000005" + hex(Buffer.from("error")));
  assert.deepEqual(decodeHeaderBlock(encodeHeaderBlock({ streamtype: "stdin", a: "x\0y" })), { streamtype: "stdin", a: "x\0y" });
  assert.throws(() => encodeHeaderBlock({ StreamType: "error" }), /lower case/);
});

test("a frame stream decodes the same whole or cut anywhere", () => {
  const wire = Buffer.concat([
    synStream(1, Buffer.from("blk")),
    synReply(3, Buffer.from("reply"), true),
    rstStream(5, RST.FLOW_CONTROL_ERROR),
    settings([{ id: 7, value: 1 << 20 }, { flags: 1, id: 4, value: 100 }]),
    ping(2),
    goAway(7, 2),
    windowUpdate(3, 0x7fffffff),
    dataFrame(0x7ffffffd, Buffer.from("payload"), true),
  ]);
  const expected: Frame[] = [
    { kind: "syn_stream", streamId: 1, fin: false, headerBlock: Buffer.from("blk") },
    { kind: "syn_reply", streamId: 3, fin: true, headerBlock: Buffer.from("reply") },
    { kind: "rst_stream", streamId: 5, status: RST.FLOW_CONTROL_ERROR },
    { kind: "settings", entries: [{ flags: 0, id: 7, value: 1 << 20 }, { flags: 1, id: 4, value: 100 }] },
    { kind: "ping", id: 2 },
    { kind: "goaway", lastStreamId: 7, status: 2 },
    { kind: "window_update", streamId: 3, delta: 0x7fffffff },
    { kind: "data", streamId: 0x7ffffffd, fin: true, data: Buffer.from("payload") },
  ];
  assert.deepEqual(new FrameReader().push(wire), expected);
  const r = new FrameReader();
  const bytewise = [...wire].flatMap((b) => r.push(Buffer.of(b)));
  assert.deepEqual(bytewise, expected);
  assert.throws(() => new FrameReader().push(Buffer.from("8002000100000000", "hex")), /version 2/);
});

test("containerd's frames decode: replies' header blocks through one inflate context with the SPDY dictionary, then data, Status, RST, GOAWAY", async () => {
  assert.equal(HEADER_DICTIONARY.length, 1423);
  const frames = new FrameReader().push(CAPTURE);
  assert.deepEqual(frames.map((f) => f.kind), ["syn_reply", "syn_reply", "data", "data", "data", "rst_stream", "goaway"]);
  const codec = new HeaderCodec();
  try {
    for (const f of frames) if (f.kind === "syn_reply") assert.deepEqual(decodeHeaderBlock(await codec.decompress(f.headerBlock)), {});
  } finally {
    codec.close();
  }
  const [, , stdout, fin, status] = frames;
  assert.deepEqual(stdout, { kind: "data", streamId: 3, fin: false, data: Buffer.from("hi\n") });
  assert.deepEqual(fin, { kind: "data", streamId: 3, fin: true, data: Buffer.alloc(0) });
  assert.equal(status?.kind === "data" && parseStatus(status.data.toString()).code, 2);
});

test("our header blocks: zlib primed with the dictionary containerd uses (same id), each block complete, the context shared", async () => {
  const ours = new HeaderCodec();
  const peer = new HeaderCodec();
  try {
    const blocks = [];
    for (const t of ["error", "stdin", "stdout", "stderr", "resize"]) blocks.push(await ours.compress(encodeHeaderBlock({ streamtype: t })));
    // zlib header with FDICT, then the dictionary's Adler-32: the same 4 bytes as in containerd's first block.
    assert.equal(blocks[0]![1]! & 0x20, 0x20);
    assert.equal(hex(blocks[0]!.subarray(2, 6)), hex(CAPTURE.subarray(14, 18)));
    for (const b of blocks) assert.equal(hex(b.subarray(-4)), "0000ffff", "each block ends on a sync flush");
    const back = [];
    for (const b of blocks) back.push(decodeHeaderBlock(await peer.decompress(b)).streamtype);
    assert.deepEqual(back, ["error", "stdin", "stdout", "stderr", "resize"]);
    // Later blocks refer to earlier ones: shorter than the first.
    assert.ok(blocks[1]!.length < blocks[0]!.length);
  } finally {
    ours.close();
    peer.close();
  }
});

/** A scripted SPDY peer on loopback: every frame the client sends, and the socket to answer on. */
async function withPeer(fn: (conn: SpdyConnection, peer: { socket: Socket; frames: Frame[]; next: (kind: Frame["kind"]) => Promise<Frame> }) => Promise<void>, receiveWindow?: number): Promise<void> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const accepted = once(server, "connection") as Promise<[Socket]>;
  const client = connect((server.address() as AddressInfo).port, "127.0.0.1");
  const [socket] = await accepted;
  const frames: Frame[] = [];
  const reader = new FrameReader();
  socket.on("data", (d: Buffer) => {
    frames.push(...reader.push(d));
    socket.emit("frames");
  });
  const next = async (kind: Frame["kind"]): Promise<Frame> => {
    for (;;) {
      const i = frames.findIndex((f) => f.kind === kind);
      if (i >= 0) return frames.splice(i, 1)[0]!;
      await once(socket, "frames");
    }
  };
  const conn = new SpdyConnection(client, undefined, { receiveWindow });
  try {
    await fn(conn, { socket, frames, next });
  } finally {
    conn.terminate();
    socket.destroy();
    server.close();
  }
}

const replyTo = async (peer: { socket: Socket; next: (k: Frame["kind"]) => Promise<Frame> }, codec: HeaderCodec): Promise<number> => {
  const syn = await peer.next("syn_stream");
  const id = syn.kind === "syn_stream" ? syn.streamId : 0;
  peer.socket.write(synReply(id, await codec.compress(encodeHeaderBlock({}))));
  return id;
};

test("a peer that keeps no windows (spdystream) is granted the largest window up front, gets all our data and FIN, no late WINDOW_UPDATE; its PING echoed", async () => {
  await withPeer(async (conn, peer) => {
    const codec = new HeaderCodec();
    try {
      assert.deepEqual(await peer.next("settings"), { kind: "settings", entries: [{ flags: 0, id: 7, value: MAX_WINDOW }] });
      assert.deepEqual(await peer.next("window_update"), { kind: "window_update", streamId: 0, delta: MAX_WINDOW - 65536 });
      const opened = conn.openStream({ streamtype: "stdin" });
      const id = await replyTo(peer, codec);
      const s = await opened;
      assert.equal(s.id, id);
      s.write(Buffer.alloc(200 * 1024, 1)); // beyond the 64 KiB window, never reopened
      s.end();
      let got = 0;
      for (;;) {
        const f = await peer.next("data");
        if (f.kind !== "data") continue;
        got += f.data.length;
        if (f.fin) break;
      }
      assert.equal(got, 200 * 1024);
      // The peer's data, passed on by the consumer: nothing to acknowledge to a peer that keeps no windows.
      const stdout = conn.openStream({ streamtype: "stdout" });
      const out = await replyTo(peer, codec);
      const o = await stdout;
      const seen: Buffer[] = [];
      o.attach({ data: (b) => void seen.push(b), end: () => undefined });
      peer.socket.write(dataFrame(out, Buffer.from("out")));
      await waitUntil(() => seen.length > 0);
      o.consumed(seen.reduce((n, b) => n + b.length, 0));
      peer.socket.write(ping(2));
      assert.deepEqual(await peer.next("ping"), { kind: "ping", id: 2 });
      assert.deepEqual(peer.frames.filter((f) => f.kind === "window_update"), []);
    } finally {
      codec.close();
    }
  });
});

test("a peer that announces its window is held to it until it reopens the window", async () => {
  await withPeer(async (conn, peer) => {
    const codec = new HeaderCodec();
    try {
      peer.socket.write(settings([{ id: 7, value: 1000 }]));
      const opened = conn.openStream({ streamtype: "stdin" });
      const id = await replyTo(peer, codec);
      const s = await opened;
      s.write(Buffer.alloc(3000, 2));
      s.end();
      const first = await peer.next("data");
      assert.equal(first.kind === "data" && first.data.length, 1000);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(peer.frames.filter((f) => f.kind === "data").length, 0, "nothing beyond the window");
      assert.ok(conn.bufferedAmount >= 2000, "what is held counts as buffered (the WebSocket side pauses on it)");
      peer.socket.write(windowUpdate(id, 5000));
      const rest = await peer.next("data");
      const fin = await peer.next("data");
      assert.equal(rest.kind === "data" && rest.data.length, 2000);
      assert.equal(fin.kind === "data" && fin.fin, true);
      // Such a peer gets its window reopened as we pass its data on: stream and session, at half the window we granted.
      const stdout = conn.openStream({ streamtype: "stdout" });
      const out = await replyTo(peer, codec);
      const o = await stdout;
      let seen = 0;
      o.attach({ data: (b) => void (seen += b.length), end: () => undefined });
      peer.socket.write(dataFrame(out, Buffer.alloc(40 * 1024)));
      await waitUntil(() => seen === 40 * 1024);
      o.consumed(seen);
      const updates = [await peer.next("window_update"), await peer.next("window_update")];
      assert.deepEqual(updates.map((u) => (u.kind === "window_update" ? [u.streamId, u.delta] : [])).sort(), [[0, 40960], [out, 40960]].sort());
    } finally {
      codec.close();
    }
  }, 65536);
});

async function waitUntil(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), "condition not reached");
}
