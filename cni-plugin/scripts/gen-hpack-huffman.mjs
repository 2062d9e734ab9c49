#!/usr/bin/env node
// Writes src/novanet/huffman.ts: the HPACK Huffman code (RFC 7541, appendix
// B) of printable ASCII, read off Node's own HPACK encoder (nghttp2) rather
// than typed in. A node:http2 client sends header values to a plain TCP
// server here; the value c + "0" x 16 comes out Huffman-coded as
// code(c) . code("0") x 16 . 1-padding, which fixes both the length and the
// bits of code(c). Printable ASCII is all the plugin ever decodes: header
// names are lowercase tokens and grpc-message is percent-encoded (gRPC's
// HTTP/2 protocol); node:http2 refuses other bytes in header values anyway.
// Run: node cni-plugin/scripts/gen-hpack-huffman.mjs (output is checked in;
// test/unit/h2.test.ts decodes node:http2's own headers with it).
import { connect } from "node:http2";
import { createServer } from "node:net";
import { writeFileSync } from "node:fs";

const FILL = 16;
const symbols = [];
for (let c = 0x20; c <= 0x7e; c++) symbols.push(String.fromCharCode(c));

/** HPACK integer with an N-bit prefix at buf[i]; returns [value, next index]. */
function int(buf, i, n) {
  const max = (1 << n) - 1;
  let v = buf[i] & max;
  i++;
  if (v < max) return [v, i];
  let m = 0;
  for (;;) {
    const b = buf[i++];
    v += (b & 0x7f) * 2 ** m;
    m += 7;
    if (b < 0x80) return [v, i];
  }
}
function str(buf, i) {
  const huff = (buf[i] & 0x80) !== 0;
  const [len, j] = int(buf, i, 7);
  return [{ huff, bytes: buf.subarray(j, j + len) }, j + len];
}
/** The value string of the last field of a header block (the probe header is sent last). */
function lastValue(block) {
  let i = 0;
  let last;
  while (i < block.length) {
    const b = block[i];
    if (b & 0x80) { [, i] = int(block, i, 7); last = undefined; continue; } // indexed field
    if ((b & 0xe0) === 0x20) { [, i] = int(block, i, 5); continue; } // table size update
    const n = (b & 0xc0) === 0x40 ? 6 : 4;
    let idx;
    [idx, i] = int(block, i, n);
    if (idx === 0) [, i] = str(block, i);
    [last, i] = str(block, i);
  }
  return last;
}

const blocks = [];
const server = createServer((sock) => {
  let buf = Buffer.alloc(24 + 0);
  let preface = false;
  buf = Buffer.alloc(0);
  sock.write(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])); // empty SETTINGS
  sock.on("data", (d) => {
    buf = Buffer.concat([buf, d]);
    if (!preface) {
      if (buf.length < 24) return;
      buf = buf.subarray(24);
      preface = true;
    }
    while (buf.length >= 9) {
      const len = buf.readUIntBE(0, 3);
      if (buf.length < 9 + len) break;
      const type = buf[3];
      const flags = buf[4];
      let payload = buf.subarray(9, 9 + len);
      if (type === 4 && !(flags & 1)) sock.write(Buffer.from([0, 0, 0, 4, 1, 0, 0, 0, 0])); // SETTINGS ACK
      if (type === 1) {
        if (flags & 0x8) payload = payload.subarray(1, payload.length - payload[0]); // PADDED
        if (flags & 0x20) payload = payload.subarray(5); // PRIORITY
        blocks.push(Buffer.from(payload));
      }
      buf = buf.subarray(9 + len);
    }
  });
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const session = connect(`http://127.0.0.1:${server.address().port}`);
session.on("error", () => undefined);

async function encoded(value) {
  const before = blocks.length;
  const s = session.request({ ":method": "GET", ":path": "/", "x-probe": value }, { endStream: true });
  s.on("error", () => undefined);
  while (blocks.length === before) await new Promise((r) => setTimeout(r, 1));
  const v = lastValue(blocks[before]);
  if (!v) throw new Error(`no literal value for ${JSON.stringify(value)}`);
  return v;
}
const bits = (bytes) => [...bytes].map((b) => b.toString(2).padStart(8, "0")).join("");

// The filler's own code first: "0" x 8 is 8 x L bits, i.e. L bytes (L < 8).
const zeros = await encoded("0".repeat(8));
if (!zeros.huff) throw new Error("'0' x 8 was not Huffman-coded");
const fillLen = zeros.bytes.length;
const fill = bits(zeros.bytes).slice(0, fillLen);
if (bits(zeros.bytes) !== fill.repeat(8)) throw new Error("'0' x 8 is not 8 copies of one code");

const table = [];
for (const c of symbols) {
  const v = await encoded(c + "0".repeat(FILL));
  if (!v.huff) throw new Error(`${JSON.stringify(c)} + fill was not Huffman-coded`);
  const b = bits(v.bytes);
  const fit = [];
  for (let len = 5; len <= 30; len++) {
    const pad = b.length - len - FILL * fillLen;
    if (pad < 0 || pad > 7) continue;
    if (b.slice(len, len + FILL * fillLen) === fill.repeat(FILL) && /^1*$/.test(b.slice(len + FILL * fillLen))) fit.push(len);
  }
  if (fit.length !== 1) throw new Error(`${JSON.stringify(c)}: ${fit.length} code lengths fit`);
  table.push([c.charCodeAt(0), Number.parseInt(b.slice(0, fit[0]), 2), fit[0]]);
}
session.destroy();
server.close();

// A prefix code, or the reading above went wrong.
for (const [s1, c1, l1] of table) {
  for (const [s2, c2, l2] of table) {
    if (s1 !== s2 && l1 <= l2 && c2 >>> (l2 - l1) === c1) throw new Error(`code of ${s1} is a prefix of ${s2}'s`);
  }
}
const rows = [];
for (let i = 0; i < table.length; i += 6) rows.push(`  ${table.slice(i, i + 6).map(([s, c, l]) => `[0x${s.toString(16)}, 0x${c.toString(16)}, ${l}]`).join(", ")},`);
const out = new URL("../src/novanet/huffman.ts", import.meta.url);
writeFileSync(out, `// GENERATED by cni-plugin/scripts/gen-hpack-huffman.mjs from Node's HPACK
// encoder: [symbol, code, bit length] of the HPACK Huffman code (RFC 7541,
// appendix B) for printable ASCII, the only bytes novanet decodes. Do not edit.
export const HUFFMAN: readonly (readonly [number, number, number])[] = [
${rows.join("\n")}
];
`);
console.log(`gen-hpack-huffman: ${table.length} codes -> ${out.pathname}`);
