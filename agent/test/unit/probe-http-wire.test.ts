// The probes' plain-HTTP client (probes/http-wire.ts) against raw TCP servers
// that answer byte for byte: every framing a server may use, responses split
// anywhere, bodies capped at 10 KiB as the kubelet reads them, and input that
// must not reach the wire.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { ResponseReader, requestHead, wireGet, wireTarget } from "../../src/probes/http-wire";

const MAX = 10 * 1024;

/** A server that answers every request with `reply(socket, request)`. */
async function rawServer(reply: (s: Socket, request: string) => void): Promise<{ url: (path: string) => URL; close: () => Promise<void> }> {
  const srv: Server = createServer((s) => {
    let req = "";
    s.on("data", (d) => {
      req += d.toString("latin1");
      if (req.includes("\r\n\r\n")) reply(s, req);
    });
    s.on("error", () => undefined);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  return { url: (p) => new URL(`http://127.0.0.1:${port}${p}`), close: () => new Promise((r) => srv.close(() => r())) };
}

const feed = (chunks: string[]): ReturnType<ResponseReader["end"]> => {
  const r = new ResponseReader(MAX);
  for (const c of chunks) r.push(Buffer.from(c, "latin1"));
  return r.done ?? r.end();
};

test("framings: Content-Length, chunked, read to close, no body for 204; split at any byte", () => {
  const cases: Array<[string, number, string]> = [
    ["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, "hello"],
    ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n", 200, "hello"],
    ["HTTP/1.0 503 Service Unavailable\r\n\r\nbusy", 503, "busy"],
    ["HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", 204, ""],
    ["HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n", 302, ""],
  ];
  for (const [wire, status, body] of cases) {
    for (let cut = 1; cut < wire.length; cut += 7) {
      const res = feed([wire.slice(0, cut), wire.slice(cut)]);
      assert.equal(res.status, status, `${JSON.stringify(wire)} cut at ${cut}`);
      assert.equal(res.body, body, `${JSON.stringify(wire)} cut at ${cut}`);
    }
  }
  assert.equal(feed(["HTTP/1.1 302 Found\r\nlocation: /a\r\n\r\n"]).location, "/a");
});

test("a body is read no further than 10 KiB, whatever its framing", () => {
  const big = "x".repeat(3 * MAX);
  assert.equal(feed([`HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n${big.slice(0, MAX + 5)}`]).body.length, MAX);
  assert.equal(feed([`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${(3 * MAX).toString(16)}\r\n${big.slice(0, MAX + 1)}`]).body.length, MAX);
  assert.equal(feed([`HTTP/1.1 200 OK\r\n\r\n${big}`]).body.length, MAX);
});

test("what is not HTTP is an error naming it; headers cannot grow without bound", () => {
  assert.throws(() => feed(["SSH-2.0-OpenSSH_9.2\r\n\r\n"]), /malformed HTTP response: "SSH-2.0-OpenSSH_9.2"/);
  assert.throws(() => feed([""]), /EOF/);
  assert.throws(() => feed(["HTTP/1.1 200 OK\r\nX: " + "y".repeat(70 * 1024)]), /response headers too large/);
});

test("the request: Host from the URL unless given, the path with its query, no CR or LF smuggled in a value", () => {
  const u = new URL("http://10.0.0.7:8080/healthz?full=1");
  assert.equal(requestHead(u, [["user-agent", "kube-probe/1.0"]]), "GET /healthz?full=1 HTTP/1.1\r\nHost: 10.0.0.7:8080\r\nuser-agent: kube-probe/1.0\r\n\r\n");
  assert.match(requestHead(u, [["host", "svc.local"]]), /^GET \/healthz\?full=1 HTTP\/1.1\r\nhost: svc.local\r\n\r\n$/);
  assert.throws(() => requestHead(u, [["x-a", "1\r\nX-Injected: yes"]]), /invalid character in the value of header "x-a"/);
});

test("over TCP: a response in pieces, a server that closes without answering, a deadline", async () => {
  const pieces = await rawServer((s) => {
    s.write("HTTP/1.1 200 OK\r\nContent-");
    setTimeout(() => s.end("Length: 2\r\n\r\nok"), 20);
  });
  const mute = await rawServer((s) => s.end());
  const slow = await rawServer(() => undefined);
  try {
    assert.deepEqual(await wireGet(wireTarget(pieces.url("/"), []), MAX), { status: 200, location: undefined, body: "ok" });
    await assert.rejects(wireGet(wireTarget(mute.url("/"), []), MAX), /EOF/);
    await assert.rejects(wireGet(wireTarget(slow.url("/"), []), MAX, 100), (e: Error) => e.name === "TimeoutError");
    await assert.rejects(wireGet(wireTarget(slow.url("/"), []), MAX, 0, AbortSignal.abort(new Error("hook cancelled"))), /hook cancelled/);
    await assert.rejects(wireGet(wireTarget(new URL("http://127.0.0.1:1/"), []), MAX), /ECONNREFUSED/);
  } finally {
    await Promise.all([pieces.close(), mute.close(), slow.close()]);
  }
});
