// A TCP/UDP peer the traffic tests run inside a pod's netns
// (`ip netns exec NS node traffic-peer.mjs ...`). Plain JS: no loader paid per
// process. Prints one JSON line.
//   serve PORT             TCP and UDP echo on PORT; prints {"ready":true} once
//                          both listen; exits on SIGTERM or after 30 s
//   tcp HOST PORT BYTES [MS]   sends BYTES random bytes, reads them back, gives
//                          up after MS (default 8000): {"sent","echoed","intact"}
//                          (intact: same sha256)
//   udp HOST PORT SIZES [TRIES]  one datagram per size (comma-separated), each
//                          read back (TRIES tries of 1 s, default 3):
//                          {"sizes","echoed","intact"}
import { createHash, randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { connect, createServer } from "node:net";

const [mode, ...args] = process.argv.slice(2);
const sha = (b) => createHash("sha256").update(b).digest("hex");
const done = (o) => { process.stdout.write(`${JSON.stringify(o)}\n`); process.exit(0); };

if (mode === "serve") {
  const port = Number(args[0]);
  const tcp = createServer((c) => { c.on("error", () => c.destroy()); c.pipe(c); });
  const udp = createSocket("udp4");
  udp.on("message", (m, from) => udp.send(m, from.port, from.address));
  let up = 0;
  const ready = () => { if (++up === 2) process.stdout.write(`${JSON.stringify({ ready: true })}\n`); };
  tcp.listen(port, "0.0.0.0", ready);
  udp.bind(port, "0.0.0.0", ready);
  process.on("SIGTERM", () => process.exit(0));
  setTimeout(() => process.exit(2), 30_000).unref();
} else if (mode === "tcp") {
  const [host, port, bytes, ms] = [args[0], Number(args[1]), Number(args[2]), Number(args[3] ?? 8_000)];
  const data = randomBytes(bytes);
  const back = [];
  let got = 0;
  const c = connect(port, host, () => c.write(data));
  c.on("data", (b) => {
    back.push(b);
    got += b.length;
    if (got >= bytes) c.end();
  });
  const finish = () => done({ sent: bytes, echoed: got, intact: got === bytes && sha(Buffer.concat(back)) === sha(data) });
  c.on("close", finish);
  c.on("error", (e) => done({ sent: bytes, echoed: got, intact: false, error: e.message }));
  setTimeout(finish, ms).unref();
} else if (mode === "udp") {
  const [host, port, sizes, tries] = [args[0], Number(args[1]), args[2].split(",").map(Number), Number(args[3] ?? 3)];
  const s = createSocket("udp4");
  s.on("error", () => undefined); // an ICMP error for one datagram is a lost datagram, not a crash
  const echoed = [];
  let wait;
  s.on("message", (m) => wait?.(m));
  const once = (d) => new Promise((resolve) => {
    const t = setTimeout(() => resolve(undefined), 1_000);
    wait = (m) => { if (m.equals(d)) { clearTimeout(t); resolve(m); } };
    s.send(d, port, host);
  });
  s.bind(0, async () => {
    for (const size of sizes) {
      const d = randomBytes(size);
      let m;
      for (let i = 0; i < tries && !m; i++) m = await once(d);
      if (m) echoed.push(size);
    }
    done({ sizes, echoed, intact: echoed.length === sizes.length });
  });
} else {
  process.stderr.write(`traffic-peer: unknown mode ${mode}\n`);
  process.exit(64);
}
