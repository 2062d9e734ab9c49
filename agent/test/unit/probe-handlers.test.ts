// Probe handlers against real local servers: HTTP and HTTPS (status codes,
// redirects, headers, timeout, a body never read to its end), TCP, and a real
// gRPC health server; exec through a fake ExecSync.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createTcpServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Server as GrpcServer, ServerCredentials, status, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import { CodedError } from "@plasmacloud/common/errors";
import { Container, Probe } from "@plasmacloud/proto/k8shost";
import { runProbe, type Exec } from "../../src/probes/handlers";
import { ProbeError } from "../../src/probes/spec";

const dir = mkdtempSync(join(tmpdir(), "probe-handlers-"));
let http: Server;
let httpPort = 0;
let httpsPort = 0;
let httpsServer: Server;
let lastHeaders: IncomingHttpHeaders = {};
const hung = new Set<() => void>();

const port = (s: { address(): unknown }): number => (s.address() as AddressInfo).port;

before(async () => {
  http = createServer((req, res) => {
    lastHeaders = req.headers;
    const u = new URL(req.url!, "http://x");
    if (u.pathname === "/ok") res.end(`fine ${u.search}`);
    else if (u.pathname === "/fail") res.writeHead(500).end("secret body");
    else if (u.pathname === "/same") res.writeHead(302, { location: "/ok?via=redirect" }).end();
    else if (u.pathname === "/other") res.writeHead(301, { location: `http://localhost:${httpPort}/ok` }).end("moved");
    else if (u.pathname === "/loop") res.writeHead(302, { location: "/loop" }).end();
    else if (u.pathname === "/hang") hung.add(() => res.destroy());
    else if (u.pathname === "/endless") {
      // 64 KiB now and never an end: a probe must not wait for the rest.
      res.writeHead(200);
      res.write(Buffer.alloc(64 * 1024, "a"));
      hung.add(() => res.destroy());
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  httpPort = port(http);
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=probe.test", "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.pem")], { stdio: "ignore" });
  httpsServer = createHttpsServer({ key: readFileSync(join(dir, "k.pem")), cert: readFileSync(join(dir, "c.pem")) }, (req, res) => {
    if (req.url === "/hang") hung.add(() => res.destroy());
    else res.end("tls ok");
  });
  await new Promise<void>((r) => httpsServer.listen(0, "127.0.0.1", r));
  httpsPort = port(httpsServer);
});

after(() => {
  for (const f of hung) f();
  http.close();
  httpsServer.close();
  rmSync(dir, { recursive: true, force: true });
});

const noExec: Exec = async () => {
  throw new Error("no exec here");
};
const container = (ports: { name: string; containerPort: number }[] = []) => Container.fromPartial({ name: "app", image: "i", ports });
const target = (c = container()) => ({ container: c, containerId: "c1", podIP: "127.0.0.1" });
const get = (path: string, over: Partial<NonNullable<Probe["httpGet"]>> = {}) => Probe.fromPartial({ httpGet: { path, port: String(httpPort), ...over } });

test("httpGet: 2xx succeeds, other codes fail without the body, the query is kept", async () => {
  const ok = await runProbe(get("/ok?x=1"), target(), 2000, noExec);
  assert.deepEqual(ok, { result: "success", output: "fine ?x=1" });
  const fail = await runProbe(get("/fail"), target(), 2000, noExec);
  assert.deepEqual(fail, { result: "failure", output: "HTTP probe failed with statuscode: 500" });
  assert.equal((await runProbe(get("/nope"), target(), 2000, noExec)).result, "failure");
});

test("httpGet: redirects on the same host are followed, to another host they end in a warning, loops fail", async () => {
  assert.deepEqual(await runProbe(get("/same"), target(), 2000, noExec), { result: "success", output: "fine ?via=redirect" });
  const other = await runProbe(get("/other"), target(), 2000, noExec);
  assert.equal(other.result, "warning");
  assert.match(other.output, /Probe terminated redirects, Response body: moved/);
  const loop = await runProbe(get("/loop"), target(), 2000, noExec);
  assert.equal(loop.result, "failure");
  assert.match(loop.output, /stopped after 10 redirects/);
});

test("httpGet: kubelet headers by default, the user's win, Host too; a named port resolves", async () => {
  await runProbe(get("/ok"), target(), 2000, noExec);
  assert.match(String(lastHeaders["user-agent"]), /^kube-probe\/\d+\.\d+$/);
  assert.equal(lastHeaders.accept, "*/*");
  const named = Probe.fromPartial({ httpGet: { path: "/ok", port: "web", httpHeaders: [{ name: "User-Agent", value: "mine" }, { name: "X-Custom", value: "1" }, { name: "Host", value: "app.example" }, { name: "Accept", value: "" }] } });
  const res = await runProbe(named, target(container([{ name: "web", containerPort: httpPort }])), 2000, noExec);
  assert.equal(res.result, "success");
  assert.equal(lastHeaders["user-agent"], "mine");
  assert.equal(lastHeaders["x-custom"], "1");
  assert.equal(lastHeaders.host, "app.example");
  assert.equal(lastHeaders.accept, undefined, "an empty Accept header means none");
  await assert.rejects(runProbe(Probe.fromPartial({ httpGet: { path: "/", port: "nope" } }), target(), 2000, noExec), (e: unknown) => e instanceof ProbeError);
});

test("httpGet: a server that does not answer in time fails; a body is read no further than needed", async () => {
  const slow = await runProbe(get("/hang"), target(), 300, noExec);
  assert.equal(slow.result, "failure");
  assert.match(slow.output, /deadline exceeded/);
  const endless = await runProbe(get("/endless"), target(), 5000, noExec);
  assert.equal(endless.result, "success", "success before the body ends (it never does)");
  assert.ok(endless.output.length <= 1024 + 3, "event output is bounded");
  const refused = await runProbe(Probe.fromPartial({ httpGet: { path: "/", port: String(await freePort()) } }), target(), 2000, noExec);
  assert.equal(refused.result, "failure");
  assert.match(refused.output, /ECONNREFUSED/);
});

test("httpGet HTTPS: a self-signed certificate is not verified, as the kubelet's", async () => {
  const res = await runProbe(Probe.fromPartial({ httpGet: { path: "/", port: String(httpsPort), scheme: "HTTPS" } }), target(), 3000, noExec);
  assert.deepEqual(res, { result: "success", output: "tls ok" });
  const slow = await runProbe(Probe.fromPartial({ httpGet: { path: "/hang", port: String(httpsPort), scheme: "HTTPS" } }), target(), 300, noExec);
  assert.equal(slow.result, "failure");
  assert.match(slow.output, /^Get "https:\/\/127\.0\.0\.1:\d+\/hang": context deadline exceeded/);
});

test("httpGet: the same probe run again goes to the pod's current IP", async () => {
  const p = get("/ok");
  assert.equal((await runProbe(p, target(), 2000, noExec)).result, "success");
  // The server listens on 127.0.0.1 only: a probe that kept the old address would still succeed.
  const moved = await runProbe(p, { ...target(), podIP: "127.0.0.2" }, 2000, noExec);
  assert.equal(moved.result, "failure");
  assert.match(moved.output, /^Get "http:\/\/127\.0\.0\.2:\d+\/ok": .*ECONNREFUSED/);
  assert.equal((await runProbe(p, target(), 2000, noExec)).result, "success");
});

test("tcpSocket: a listening port succeeds, a closed one fails", async () => {
  const tcp = (p: number) => Probe.fromPartial({ tcpSocket: { port: String(p) } });
  assert.equal((await runProbe(tcp(httpPort), target(), 1000, noExec)).result, "success");
  const closed = await runProbe(tcp(await freePort()), target(), 1000, noExec);
  assert.equal(closed.result, "failure");
  assert.match(closed.output, /^dial tcp 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
});

test("grpc: grpc.health.v1.Health/Check against a real server; SERVING only succeeds", async () => {
  // The health service by hand, independent of the prober's encoding.
  const answers: Record<string, number> = { "": 1, down: 2 };
  const seen: string[] = [];
  const server = new GrpcServer();
  server.addService(
    {
      Check: {
        path: "/grpc.health.v1.Health/Check",
        requestStream: false,
        responseStream: false,
        requestSerialize: (r: { service: string }) => Buffer.from(r.service),
        // An object: grpc-js's server takes a falsy request for a missing one.
        requestDeserialize: (b: Buffer) => ({ service: b.length > 2 ? b.subarray(2).toString() : "" }),
        responseSerialize: (n: number) => Buffer.from(n ? [0x08, n] : []),
        responseDeserialize: (b: Buffer) => b[1] ?? 0,
      },
    },
    {
      Check: (call: ServerUnaryCall<{ service: string }, number>, cb: sendUnaryData<number>) => {
        seen.push(call.request.service);
        const a = answers[call.request.service];
        if (a === undefined) return cb({ code: status.NOT_FOUND, details: "unknown service" });
        cb(null, a);
      },
    },
  );
  const bare = new GrpcServer(); // no health service at all
  const gport = await new Promise<number>((r, j) => server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))));
  const bport = await new Promise<number>((r, j) => bare.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))));
  try {
    const grpc = (p: number, service?: string) => Probe.fromPartial({ grpc: { port: p, service } });
    assert.deepEqual(await runProbe(grpc(gport), target(), 2000, noExec), { result: "success", output: "service healthy" });
    const down = await runProbe(grpc(gport, "down"), target(), 2000, noExec);
    assert.deepEqual(down, { result: "failure", output: 'service unhealthy (responded with "NOT_SERVING")' });
    assert.deepEqual(seen, ["", "down"], "the service name travels in the request");
    const unknown = await runProbe(grpc(gport, "other"), target(), 2000, noExec);
    assert.match(unknown.output, /^error: health rpc probe failed: .*unknown service/);
    const unimpl = await runProbe(grpc(bport), target(), 2000, noExec);
    assert.equal(unimpl.result, "failure");
    assert.match(unimpl.output, /does not implement the grpc health protocol/);
    const closed = await runProbe(grpc(await freePort()), target(), 500, noExec);
    assert.equal(closed.result, "failure");
    assert.match(closed.output, /^timeout: failed to connect service "127\.0\.0\.1:\d+" within 0\.5s/);
  } finally {
    server.forceShutdown();
    bare.forceShutdown();
  }
});

test("exec: exit 0 succeeds, another exit fails with the output, a timeout fails, a runtime error counts as nothing", async () => {
  const calls: { cmd: string[]; timeout: number }[] = [];
  const exec = (code: number | Error): Exec => async (_id, cmd, timeout) => {
    calls.push({ cmd, timeout });
    if (code instanceof Error) throw code;
    return { exitCode: code, stdout: Buffer.from("out "), stderr: Buffer.from("err") };
  };
  const p = Probe.fromPartial({ exec: { command: ["cat", "/tmp/healthy"] } });
  assert.deepEqual(await runProbe(p, target(), 3000, exec(0)), { result: "success", output: "out err" });
  assert.deepEqual(calls[0], { cmd: ["cat", "/tmp/healthy"], timeout: 3 }, "the probe's timeout goes to ExecSync in seconds");
  assert.deepEqual(await runProbe(p, target(), 1000, exec(1)), { result: "failure", output: "out err" });
  const timedOut = await runProbe(p, target(), 1000, exec(new CodedError("DeadlineExceeded", "CRI ExecSync: timeout 1s exceeded")));
  assert.deepEqual(timedOut, { result: "failure", output: 'command "cat /tmp/healthy" timed out' });
  await assert.rejects(runProbe(p, target(), 1000, exec(new CodedError("NotFound", "container not found"))), (e: unknown) => e instanceof ProbeError);
});

async function freePort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const p = port(s);
  await new Promise((r) => s.close(r));
  return p;
}
