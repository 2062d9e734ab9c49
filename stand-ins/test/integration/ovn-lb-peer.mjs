// A Service backend and its client for ovn-lb.test.ts, run inside a pod's
// netns (`ip netns exec NS node ovn-lb-peer.mjs ...`). Plain JS: no loader
// paid per process. Prints one JSON line.
//   serve NAME PORT          TCP and UDP on PORT answering "NAME SOURCE" (who
//                            served, and the client address it saw);
//                            {"ready":true} once both listen; exits on SIGTERM
//                            or after 5 min (never outlives a crashed test)
//   tcp HOST PORT COUNT      COUNT connections one after another, each reading
//                            the answer: {"answers":{NAME:n},"errors":{CODE:n},
//                            "from":{SOURCE:n}}
//   udp HOST PORT COUNT      COUNT datagrams, each from a new connected socket
//                            (so an ICMP port unreachable is ECONNREFUSED),
//                            1 s for the answer each: the same shape
import { createSocket } from "node:dgram";
import { connect, createServer } from "node:net";

const [mode, ...args] = process.argv.slice(2);
const WAIT_MS = 1500;

if (mode === "serve") {
  const [name, port] = [args[0], Number(args[1])];
  const tcp = createServer((c) => { c.on("error", () => c.destroy()); c.end(`${name} ${c.remoteAddress}\n`); });
  const udp = createSocket("udp4");
  udp.on("message", (_m, from) => udp.send(`${name} ${from.address}`, from.port, from.address));
  let up = 0;
  const ready = () => { if (++up === 2) process.stdout.write(`${JSON.stringify({ ready: true })}\n`); };
  tcp.listen(port, "0.0.0.0", ready);
  udp.bind(port, "0.0.0.0", ready);
  process.on("SIGTERM", () => process.exit(0));
  setTimeout(() => process.exit(2), 300_000).unref();
} else {
  const [host, port, count] = [args[0], Number(args[1]), Number(args[2])];
  const answers = {};
  const errors = {};
  const from = {};
  const count1 = (o, k) => { o[k] = (o[k] ?? 0) + 1; };
  const once = mode === "tcp" ? tcpOnce : udpOnce;
  for (let i = 0; i < count; i++) {
    const r = await once(host, port);
    if (!r.answer) { count1(errors, r.error); continue; }
    const [name, source] = r.answer.split(" ");
    count1(answers, name);
    count1(from, source);
  }
  process.stdout.write(`${JSON.stringify({ answers, errors, from })}\n`);
  process.exit(0);
}

function tcpOnce(host, port) {
  return new Promise((resolve) => {
    let got = "";
    const c = connect(port, host);
    const t = setTimeout(() => { c.destroy(); resolve({ error: "timeout" }); }, WAIT_MS);
    c.on("data", (b) => { got += b; });
    c.on("end", () => { clearTimeout(t); c.destroy(); resolve(got.trim() ? { answer: got.trim() } : { error: "empty" }); });
    c.on("error", (e) => { clearTimeout(t); resolve({ error: e.code ?? e.message }); });
  });
}

function udpOnce(host, port) {
  return new Promise((resolve) => {
    const s = createSocket("udp4");
    const done = (r) => { clearTimeout(t); s.close(); resolve(r); };
    const t = setTimeout(() => done({ error: "timeout" }), WAIT_MS);
    s.on("error", (e) => done({ error: e.code ?? e.message }));
    s.on("message", (m) => done({ answer: m.toString() }));
    s.connect(port, host, () => s.send("who"));
  });
}
