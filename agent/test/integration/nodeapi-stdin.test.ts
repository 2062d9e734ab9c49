// The end of stdin reaching the remote command (issue 13): v5.channel.k8s.io's
// CLOSE of stdin, which the node API carries to containerd as the FIN of the
// stdin stream of a SPDY session. Through the CLI as a user runs it (piped
// input, exit codes, 8 MiB of input whole), raw v5 and v4 WebSocket clients
// (a v4 client keeps the plain relay), attach -i to a stdinOnce container
// (the end of input reaches it, it exits), and afterwards no connection of the
// agent left open to containerd's streaming server or from a client.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials } from "@grpc/grpc-js";
import { WebSocket } from "ws";
import { ExecRequest, RuntimeServiceClient } from "@plasmacloud/proto/cri";
import { internalIP } from "../../src/node/readings";
import { closeMessage, frame, parseStatus, resizeMessage, unframe, V4, V5 } from "../../src/nodeapi/channels";
import { NODE_API_PORT_ANNOTATION, execPath } from "../../src/nodeapi/paths";
import { BUSYBOX, podRunning, startCluster, waitFor, type Cluster } from "../helpers/cluster";
import { CONTAINERD_SOCK, containersOf, criCall, purgeNode } from "../helpers/cri";
import { Cli, runCli } from "../helpers/cli";

const HOST = internalIP();
const certDir = mkdtempSync(join(tmpdir(), "nodeapi-stdin-it-"));
const CERT = join(certDir, "node.crt");
const KEY = join(certDir, "node.key");
execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=k8shost-agent", "-addext", `subjectAltName=IP:${HOST}`, "-keyout", KEY, "-out", CERT], { stdio: "ignore" });

let c: Cluster;
let cli: Cli;
let base = "";
let containerId = "";

before(async () => {
  c = await startCluster({ extraConfig: `server: { address: "${HOST}", port: 0, certFile: ${CERT}, keyFile: ${KEY} }` });
  cli = new Cli(["--server", c.cp.address, "--token-file", join(c.dir, "user.token"), "--certificate-authority", CERT]);
  await Promise.all([
    c.createPod({ metadata: { name: "box" }, spec: { containers: [{ name: "app", image: BUSYBOX, command: ["sleep", "3600"] }], terminationGracePeriodSeconds: 1n } }),
    // kubectl run -i's container: it waits on its stdin, which closes when the first attach ends.
    c.createPod({ metadata: { name: "reader" }, spec: { containers: [{ name: "app", image: BUSYBOX, command: ["sh", "-c", "wc -c; exit 7"], stdin: true, stdinOnce: true }], restartPolicy: "Never", terminationGracePeriodSeconds: 1n } }),
  ]);
  const [pod] = await Promise.all([podRunning(c, "box", undefined, 60_000), podRunning(c, "reader", undefined, 60_000)]);
  containerId = (await containersOf(pod.metadata!.uid))[0]!.id;
  const port = await waitFor("the node API port published", () => c.store.nodes.get(c.nodeName)?.metadata?.annotations[NODE_API_PORT_ANNOTATION]);
  base = `https://${HOST}:${port}`;
});

after(async () => {
  if (c) {
    await c.close();
    await purgeNode(c.nodeName);
  }
  rmSync(certDir, { recursive: true, force: true });
});

/** A raw exec WebSocket offering `protocols`; resolves with its output, Status and the protocol the server chose. */
async function rawExec(protocols: string[], command: string[], o: { tty?: boolean; input?: (ws: WebSocket) => void }): Promise<{ protocol: string; out: string; code: number }> {
  const tty = !!o.tty;
  const ws = new WebSocket(`${base.replace("https", "wss")}${execPath("default", "box", "app", command, { stdin: true, stdout: true, stderr: !tty, tty })}`, protocols, {
    ca: readFileSync(CERT),
    headers: { authorization: "Bearer user-token" },
  });
  let out = "";
  let status = "";
  ws.on("message", (m: Buffer) => {
    const f = unframe(m);
    if (f?.channel === 1 || f?.channel === 2) out += f.data.toString();
    if (f?.channel === 3) status += f.data.toString();
  });
  await new Promise((r, j) => ws.once("open", r).once("error", j));
  o.input?.(ws);
  await new Promise((r) => ws.once("close", r));
  return { protocol: ws.protocol, out, code: parseStatus(status).code };
}

/** The agent's established TCP connections to `port` or on it. */
function agentConnections(port: number): string[] {
  const pid = c.agent.proc!.pid!;
  return execFileSync("ss", ["-Htnp", "state", "established"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.includes(`pid=${pid},`) && new RegExp(`:${port}\\s`).test(l));
}

test("exec -i without a TTY: the end of piped stdin reaches the command, which ends with its own exit code", async () => {
  const cat = await runCli(cli.args("exec", "-i", "box", "--", "cat"), { input: "a\nb\n" });
  assert.deepEqual([cat.code, cat.stdout, cat.stderr], [0, "a\nb\n", ""]);
  const wc = await runCli(cli.args("exec", "-i", "box", "--", "sh", "-c", "wc -c; exit 3"), { input: "hello\n" });
  assert.deepEqual([wc.code, wc.stdout.trim(), wc.stderr], [3, "6", "command terminated with exit code 3\n"]);
  const empty = await runCli(cli.args("exec", "-i", "box", "--", "wc", "-l"), { input: "" });
  assert.deepEqual([empty.code, empty.stdout.trim()], [0, "0"], empty.stderr);
});

test("exec -i: 8 MiB of stdin arrive whole (flow control across the node API)", async () => {
  const input = randomBytes(6 << 20).toString("base64"); // 8 MiB of text
  const sum = createHash("sha256").update(input).digest("hex");
  const r = await runCli(cli.args("exec", "-i", "box", "--", "sha256sum"), { input, timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split(/\s/)[0], sum);
  // And as much back out: the command's output through the same session.
  const echoed = await runCli(cli.args("exec", "-i", "box", "--", "cat"), { input, timeoutMs: 120_000 });
  assert.equal(echoed.code, 0, echoed.stderr);
  assert.equal(createHash("sha256").update(echoed.stdout).digest("hex"), sum);
});

test("v5 over the WebSocket: CLOSE of stdin ends the input; with a TTY the resize channel sets the terminal's size", async () => {
  const closed = await rawExec([V5, V4], ["sh", "-c", "cat; echo done"], {
    input: (ws) => {
      ws.send(frame(0, "x\n"));
      ws.send(closeMessage(0));
    },
  });
  assert.deepEqual(closed, { protocol: V5, out: "x\ndone\n", code: 0 });
  const sized = await rawExec([V5], ["sh", "-c", "sleep 0.5; stty size"], { tty: true, input: (ws) => ws.send(resizeMessage(123, 45)) });
  assert.deepEqual([sized.protocol, sized.out.trim(), sized.code], [V5, "45 123", 0]);
});

test("a v4 client keeps the relay: input flows, the exit code comes back", async () => {
  const r = await rawExec([V4], ["sh", "-c", "read x; echo got-$x; exit 4"], { input: (ws) => ws.send(frame(0, "v4\n")) });
  assert.deepEqual(r, { protocol: V4, out: "got-v4\n", code: 4 });
});

test("attach -i to a stdinOnce container: the end of piped stdin reaches it; it exits and its status has its exit code", async () => {
  // containerd's CRI attach closes a stdinOnce container's stdin when the attach's stdin ends (without a
  // TTY; with one it is closed when the container stops); the attach lasts until the container's output ends.
  const r = await runCli(cli.args("attach", "-i", "reader"), { input: "hello\n", timeoutMs: 30_000 });
  // The attach's Status is Success whatever the process's exit code (the kubelet's ServeAttach, and
  // containerd's copy of it): kubectl attach exits 0; the exit code is in the pod's status.
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, "6\n", ""]);
  const pod = await waitFor("reader Failed with its container terminated", async () => {
    const p = await c.getPod("reader");
    return p?.status?.phase === "Failed" && p.status.containerStatuses[0]?.state?.terminated ? p : undefined;
  }, 30_000);
  assert.equal(pod.status!.containerStatuses[0]!.state!.terminated!.exitCode, 7);
});

test("afterwards the agent holds no connection to containerd's streaming server nor any client's", async () => {
  const client = new RuntimeServiceClient(`unix://${CONTAINERD_SOCK}`, credentials.createInsecure());
  let streamingPort: number;
  try {
    // Any exec URL names the streaming server; this one is never used.
    const { url } = await criCall(client, client.exec, ExecRequest.fromPartial({ containerId, cmd: ["true"], stdout: true }));
    streamingPort = Number(new URL(url).port);
  } finally {
    client.close();
  }
  // A session the client abandons mid-command goes too.
  const ws = new WebSocket(`${base.replace("https", "wss")}${execPath("default", "box", "app", ["sleep", "30"], { stdin: true, stdout: true, stderr: true, tty: false })}`, [V5], {
    ca: readFileSync(CERT),
    headers: { authorization: "Bearer user-token" },
  });
  await new Promise((r, j) => ws.once("open", r).once("error", j));
  await waitFor("the abandoned session's SPDY connection", () => agentConnections(streamingPort).length > 0, 10_000);
  ws.terminate();
  const nodeApiPort = Number(new URL(base).port);
  await waitFor("no streaming or client connections left", () => agentConnections(streamingPort).length === 0 && agentConnections(nodeApiPort).length === 0, 15_000);
});
