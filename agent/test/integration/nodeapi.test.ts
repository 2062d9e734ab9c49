// The node API against real containerd, used as a user would: the CLI
// (exec, attach, port-forward, logs) finding the pod's node through the control
// plane, over TLS with the node's CA, authenticated by the user's token; and
// raw requests for what must be refused (no token, a bad token, another
// tenant's user) and for a plain-HTTP client.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocket } from "ws";
import { internalIP } from "../../src/node/readings";
import { parseStatus, resizeMessage, unframe, V4 } from "../../src/nodeapi/channels";
import { NODE_API_PORT_ANNOTATION, execPath } from "../../src/nodeapi/paths";
import { BUSYBOX, podRunning, startCluster, waitFor, type Cluster } from "../helpers/cluster";
import { purgeNode } from "../helpers/cri";
import { Cli, runCli } from "../helpers/cli";

// The node API's certificate, for the node's InternalIP (the address the CLI finds in the node's status).
const HOST = internalIP();
const certDir = mkdtempSync(join(tmpdir(), "nodeapi-it-"));
const CERT = join(certDir, "node.crt");
const KEY = join(certDir, "node.key");
execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=k8shost-agent", "-addext", `subjectAltName=IP:${HOST}`, "-keyout", KEY, "-out", CERT], { stdio: "ignore" });

let c: Cluster;

let base = "";
let cli: Cli;
const SHELL_LOOP = ["sh", "-c", "trap 'exit 0' TERM; i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.3; done"];

// One cluster for the file (clusterPerFile's, with the certificate made first).
before(async () => {
  c = await startCluster({ extraConfig: `server: { address: "${HOST}", port: 0, certFile: ${CERT}, keyFile: ${KEY} }` });
  c.tokens.add("other-tenant-token", { name: "user:mallory", kind: "user", orgId: "org-b", projectId: "proj-b" });
  cli = new Cli(["--server", c.cp.address, "--token-file", join(c.dir, "user.token"), "--certificate-authority", CERT]);
  await Promise.all([
    c.createPod({ metadata: { name: "web" }, spec: { containers: [{ name: "app", image: BUSYBOX, command: ["sh", "-c", "mkdir -p /tmp/www && echo hello-from-pod > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"] }] } }),
    c.createPod({ metadata: { name: "ticker" }, spec: { containers: [{ name: "app", image: BUSYBOX, command: SHELL_LOOP }], terminationGracePeriodSeconds: 1n } }),
    c.createPod({ metadata: { name: "console" }, spec: { containers: [{ name: "sh", image: BUSYBOX, command: ["sh"], stdin: true, tty: true }], terminationGracePeriodSeconds: 1n } }),
  ]);
  await Promise.all(["web", "ticker", "console"].map((n) => podRunning(c, n, undefined, 60_000)));
  const node = await waitFor("the node API port published", () => c.store.nodes.get(c.nodeName)?.metadata?.annotations[NODE_API_PORT_ANNOTATION]);
  base = `https://${HOST}:${node}`;
});

after(async () => {
  if (c) {
    await c.close();
    await purgeNode(c.nodeName);
  }
  rmSync(certDir, { recursive: true, force: true });
});

/** A raw request to the node API: status and body. */
function call(path: string, token?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const h: Record<string, string> = { ...headers };
    if (token !== undefined) h.authorization = `Bearer ${token}`;
    const req = request(`${base}${path}`, { ca: readFileSync(CERT), headers: h }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("exec: output on stdout and stderr, and the command's exit code is the CLI's", async () => {
  const r = await runCli(cli.args("exec", "web", "--", "sh", "-c", "echo hi; echo oops >&2; exit 3"));
  assert.deepEqual([r.code, r.stdout, r.stderr], [3, "hi\n", "oops\ncommand terminated with exit code 3\n"], "kubectl's words on stderr");
  const ok = await runCli(cli.args("exec", "web", "-c", "app", "--", "cat", "/tmp/www/index.html"));
  assert.deepEqual([ok.code, ok.stdout], [0, "hello-from-pod\n"]);
  const piped = await runCli(cli.args("exec", "-i", "web", "--", "sh", "-c", "read x; echo got-$x"), { input: "from-stdin\n" });
  assert.deepEqual([piped.code, piped.stdout], [0, "got-from-stdin\n"], piped.stderr);
  const noContainer = await runCli(cli.args("exec", "web", "-c", "nope", "--", "true"));
  assert.equal(noContainer.code, 1);
  assert.match(noContainer.stderr, /container "nope" not found in pod "web"/);
  const missing = await runCli(cli.args("exec", "web", "--", "/no/such/binary"));
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /no such file|not found/i);
});

test("exec -it: a real terminal inside (tty is /dev/pts/N), typed input runs, exit code comes back", async () => {
  // script(1) gives the CLI a terminal of its own, as a user's shell would.
  const line = ["exec", process.execPath, ...cli.args("exec", "-it", "web", "--", "sh")].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const p = spawn("script", ["-qec", line, "/dev/null"], { cwd: cli.repo, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  p.stdout.on("data", (d: Buffer) => (out += d.toString()));
  p.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => p.on("exit", (code) => r(code)));
  try {
    await waitFor("the remote shell's prompt", () => out.includes("#"), 30_000);
    p.stdin.write("tty; echo sum-$((40+2))\r");
    await waitFor("the command's output", () => /\/dev\/pts\/\d+/.test(out) && out.includes("sum-42"), 20_000);
    p.stdin.write("exit 7\r");
    assert.equal(await exited, 7, out);
  } finally {
    p.kill("SIGKILL");
  }
});

test("exec over the WebSocket: the resize channel sets the terminal's size", async () => {
  const ws = new WebSocket(`${base.replace("https", "wss")}${execPath("default", "web", "app", ["sh", "-c", "sleep 0.5; stty size"], { stdin: true, stdout: true, stderr: false, tty: true })}`, [V4], {
    ca: readFileSync(CERT),
    headers: { authorization: "Bearer user-token" },
  });
  let out = "";
  let status = "";
  ws.on("message", (m: Buffer) => {
    const f = unframe(m)!;
    if (f.channel === 1) out += f.data.toString();
    if (f.channel === 3) status += f.data.toString();
  });
  await new Promise((r) => ws.once("open", r));
  ws.send(resizeMessage(123, 45));
  await new Promise((r) => ws.once("close", r));
  assert.equal(out.trim(), "45 123");
  assert.equal(parseStatus(status).code, 0);
});

test("port-forward: a local port reaches the HTTP server in the pod, connection after connection", async () => {
  const pf = cli.spawn("port-forward", "web", ":8080");
  try {
    const m = await waitFor("Forwarding from", () => /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(pf.stdout) ?? undefined);
    for (let i = 0; i < 2; i++) {
      const body = await new Promise<string>((resolve, reject) => {
        httpRequest({ host: "127.0.0.1", port: Number(m[1]), path: "/index.html" }, (res) => {
          let b = "";
          res.setEncoding("utf8").on("data", (d: string) => (b += d));
          res.on("end", () => resolve(b));
        })
          .on("error", reject)
          .end();
      });
      assert.equal(body, "hello-from-pod\n");
    }
  } finally {
    assert.equal(await pf.stop(), 0, pf.stderr);
  }
});

test("attach: the running container's output; with -i, input to a container made with stdin and tty", async () => {
  const a = cli.spawn("attach", "ticker");
  try {
    await waitFor("ticks through attach", () => /tick-\d+\n/.test(a.stdout), 20_000);
  } finally {
    await a.stop();
  }
  const refused = await runCli(cli.args("attach", "-i", "ticker"));
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /was not created with stdin: true/);
  const s = cli.spawn("attach", "-i", "console");
  try {
    // Attach sees only what is written from now on: type until the shell answers.
    await waitFor("the attached shell answers", () => {
      s.write("echo attached-$((2*3))\n");
      return s.stdout.includes("attached-6");
    }, 20_000, 500);
  } finally {
    await s.stop();
  }
});

test("logs off the node go through the API: --tail, and -f until Ctrl-C", async () => {
  const r = await call("/containerLogs/default/ticker/app?tailLines=2", "user-token");
  assert.equal(r.status, 200, r.body);
  const lines = r.body.trimEnd().split("\n");
  assert.equal(lines.length, 2);
  for (const l of lines) assert.match(l, /^tick-\d+$/);
  // The CLI on a machine that is not the pod's node (its config names another node).
  const elsewhere = join(c.dir, "elsewhere.yaml");
  writeFileSync(elsewhere, "nodeName: elsewhere\n");
  const tail = await runCli(cli.args("logs", "ticker", "--config", elsewhere, "--tail", "3"));
  assert.equal(tail.code, 0, tail.stderr);
  assert.match(tail.stdout, /^(tick-\d+\n){3}$/);
  const follow = cli.spawn("logs", "ticker", "--config", elsewhere, "-f", "--tail", "1");
  try {
    // Lines written after the request arrive: more than the one asked for.
    await waitFor("followed lines", () => (follow.stdout.match(/tick-\d+\n/g) ?? []).length >= 3, 20_000);
  } finally {
    await follow.stop();
  }
});

test("refused: no token or a bad one is 401 on any path; another tenant's user gets the same 404 as for a pod that does not exist", async () => {
  for (const path of ["/containerLogs/default/web/app", "/exec/default/web/app?command=ls&output=1", "/no/such/path"]) {
    assert.equal((await call(path)).status, 401, path);
    assert.equal((await call(path, "not-a-token")).status, 401, path);
  }
  const pod = (await c.getPod("web"))!;
  const theirs = await call("/containerLogs/default/web/app", "other-tenant-token");
  const none = await call("/containerLogs/default/no-such-pod/app", "user-token");
  assert.deepEqual([theirs.status, none.status], [404, 404]);
  assert.equal(theirs.body, 'pods "web" not found\n');
  assert.equal(none.body, 'pods "no-such-pod" not found\n');
  for (const secret of [pod.metadata!.uid, pod.status!.podIp, c.nodeName, "app", "hello"]) assert.ok(!theirs.body.includes(secret), secret);
  // The same for a stream: the upgrade is answered with the 404 and no stream.
  const upgrade = await call(execPath("default", "web", "app", ["ls"], { stdin: false, stdout: true, stderr: false, tty: false }), "other-tenant-token", {
    connection: "Upgrade",
    upgrade: "websocket",
    "sec-websocket-version": "13",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    "sec-websocket-protocol": V4,
  });
  assert.deepEqual(upgrade, { status: 404, body: 'pods "web" not found\n' });
});

test("TLS only: a plain-HTTP client gets no HTTP answer", async () => {
  const port = Number(new URL(base).port);
  const outcome = await new Promise<string>((resolve) => {
    const req = httpRequest({ host: HOST, port, path: "/containerLogs/default/web/app", headers: { authorization: "Bearer user-token" }, timeout: 10_000 }, (res) => resolve(`HTTP ${res.statusCode}`));
    req.on("error", (err) => resolve(`error: ${err.message}`));
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end();
  });
  assert.match(outcome, /^error: /, outcome);
});
