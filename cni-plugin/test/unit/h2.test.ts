// The hand-written HTTP/2 client (src/novanet/h2.ts) against node:http2's
// server (nghttp2, as under grpc-js): header blocks with every printable
// ASCII byte, Huffman-coded or not, the dynamic table across requests,
// header blocks split over CONTINUATION frames, trailers, a large body,
// and a server reset.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Http2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import { encodeHeaders, H2Connection, huffmanDecode, type Response } from "../../src/novanet/h2.js";
import { openStream } from "../../src/novanet/socket.js";

let server: Http2Server;
let addr = "";
const printable = Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i)).join("");

before(async () => {
  server = createServer();
  server.on("stream", (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on("error", () => undefined); // the reset below
    stream.on("data", (b: Buffer) => chunks.push(b));
    stream.on("end", () => {
      const path = String(headers[":path"]);
      if (path === "/reset") return stream.close(2); // INTERNAL_ERROR
      const echo = Buffer.concat(chunks).toString("latin1");
      const big = path === "/big";
      stream.respond({ ":status": 200, "x-echo": echo, "x-printable": printable, "x-secret-seen": String(headers.authorization ?? ""), ...(big ? { "x-big": "b".repeat(40_000) } : {}) },
        { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "x-trailer": `done ${echo}` }));
      stream.end(big ? Buffer.alloc(300_000, 7) : Buffer.from(`body ${echo}`));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  addr = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

function request(c: H2Connection, path: string, body: string, extra: [string, string][] = []): Promise<Response> {
  return new Promise((resolve, reject) => {
    const h = encodeHeaders([[":method", "POST"], [":scheme", "http"], [":path", path], [":authority", addr], ...extra], new Set(["authorization"]));
    c.request(h, Buffer.from(body, "latin1"), (err, res) => (err ? reject(err) : resolve(res as Response)));
  });
}
const get = (hs: [string, string][], n: string): string | undefined => hs.find(([k]) => k === n)?.[1];

test("headers, trailers and bodies decode, across requests sharing the dynamic table", async () => {
  const c = new H2Connection((onData, onClose) => openStream({ addr }, onData, onClose));
  try {
    for (const body of ["one", printable, "one", `${printable}${printable}`, "two"]) {
      const r = await request(c, "/echo", body, [["authorization", "Bearer s3cret"]]);
      assert.equal(get(r.headers, ":status"), "200");
      assert.equal(get(r.headers, "x-echo"), body);
      assert.equal(get(r.headers, "x-printable"), printable);
      assert.equal(get(r.headers, "x-secret-seen"), "Bearer s3cret");
      assert.equal(get(r.trailers, "x-trailer"), `done ${body}`);
      assert.equal(r.body.toString("latin1"), `body ${body}`);
    }
    // Concurrent streams on one connection.
    const all = await Promise.all(["a", "b", "c"].map((b) => request(c, "/echo", b)));
    assert.deepEqual(all.map((r) => get(r.headers, "x-echo")), ["a", "b", "c"]);
  } finally {
    c.close();
  }
});

test("a header block over CONTINUATION frames and a body over the initial window", async () => {
  const c = new H2Connection((onData, onClose) => openStream({ addr }, onData, onClose));
  try {
    const r = await request(c, "/big", "x");
    assert.equal(get(r.headers, "x-big"), "b".repeat(40_000));
    assert.equal(r.body.length, 300_000);
  } finally {
    c.close();
  }
});

test("a reset stream and a refused connection fail the request", async () => {
  const c = new H2Connection((onData, onClose) => openStream({ addr }, onData, onClose));
  await assert.rejects(request(c, "/reset", ""), /reset by the server \(code 2\)/);
  c.close();
  const refused = new H2Connection((onData, onClose) => openStream({ addr: "127.0.0.1:1" }, onData, onClose));
  await assert.rejects(request(refused, "/", ""), /ECONNREFUSED/);
  refused.close();
});

test("Huffman strings: padding must be a prefix of EOS", () => {
  assert.equal(huffmanDecode(Buffer.from([0x07])), "0"); // 00000 + 111
  assert.throws(() => huffmanDecode(Buffer.from([0x00])), /padding/); // 00000 + 000
  assert.throws(() => huffmanDecode(Buffer.from([0xff, 0xff])), /padding|undecodable/);
});
