// The node API's wire formats: channel.k8s.io framing (binary and base64), the
// v4 exit Status, port-forward's port prefixes, subprotocol choice, the
// kubelet's paths and query parameters, and kubectl's port pair forms.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseProtocol, frame, parseStatus, PORT_FORWARD_PROTOCOLS, portPrefix, PortForwardReceiver, REMOTE_COMMAND_PROTOCOLS, resizeMessage, unframe, V4, V4_BASE64 } from "../../src/nodeapi/channels";
import { parsePortPair } from "../../src/nodeapi/forward";
import { errorCode, errorMessage } from "@plasmacloud/common/errors";
import { attachPath, execPath, logsPath, parseRoute, portForwardPath } from "../../src/nodeapi/paths";

test("frames carry their channel in the first byte (binary) or digit (base64) and come back unchanged", () => {
  assert.deepEqual([...frame(0, "foo\n")], [0, 102, 111, 111, 10]);
  assert.equal(frame(1, "\n", true).toString(), "1Cg==");
  for (const b64 of [false, true]) {
    const data = Buffer.from([0, 255, 10, 13, 200]);
    assert.deepEqual(unframe(frame(2, data, b64), b64), { channel: 2, data });
  }
  assert.equal(unframe(Buffer.alloc(0)), undefined, "an empty message is skipped, as the server skips it");
  assert.deepEqual(JSON.parse(unframe(resizeMessage(120, 40))!.data.toString()), { Width: 120, Height: 40 });
  assert.equal(unframe(resizeMessage(120, 40))!.channel, 4);
});

test("the v4 Status on the error channel gives the command's exit code, or an error", () => {
  assert.deepEqual(parseStatus('{"metadata":{},"status":"Success"}'), { code: 0, message: "" });
  // As containerd 1.6 writes it for `exit 3`.
  const nonZero = '{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}';
  assert.equal(parseStatus(nonZero).code, 3);
  const internal = '{"metadata":{},"status":"Failure","message":"Internal error occurred: error executing command in container: failed to exec in container: starting container process caused: exec: \\"nope\\": executable file not found in $PATH","reason":"InternalError","code":500}';
  assert.deepEqual(parseStatus(internal), { code: 1, message: JSON.parse(internal).message });
  assert.deepEqual(parseStatus("plain text before v4"), { code: 1, message: "plain text before v4" });
  assert.equal(parseStatus('{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"x"}]}}').code, 1, "a code that is not a number is a failure");
});

test("port-forward: each channel opens with the port (LE), split anywhere; a wrong port is an error", () => {
  assert.deepEqual([...portPrefix(8080)], [0x90, 0x1f]);
  const r = new PortForwardReceiver(8080);
  assert.equal(r.receive(0, Buffer.from([0x90])), undefined);
  assert.deepEqual(r.receive(0, Buffer.from([0x1f, 65, 66])), { kind: "data", data: Buffer.from("AB") });
  assert.deepEqual(r.receive(0, Buffer.from([0x90, 0x1f])), { kind: "data", data: Buffer.from([0x90, 0x1f]) }, "after the prefix, bytes are data");
  assert.equal(r.receive(1, portPrefix(8080)), undefined);
  assert.deepEqual(r.receive(1, Buffer.from("refused")), { kind: "error", data: Buffer.from("refused") });
  assert.equal(r.receive(4, Buffer.from("x")), undefined, "another port's channel is not this one's");
  assert.throws(() => new PortForwardReceiver(80).receive(0, portPrefix(81)), /port 81, expected 80/);
  assert.deepEqual(new PortForwardReceiver(80, 1).receive(2, Buffer.concat([portPrefix(80), Buffer.from("z")])), { kind: "data", data: Buffer.from("z") });
});

test("subprotocol: the first the client offers that the runtime speaks; none offered is the binary default", () => {
  assert.equal(chooseProtocol(["v5.channel.k8s.io", V4, V4_BASE64], REMOTE_COMMAND_PROTOCOLS), V4, "v5 (kubectl 1.30+) is not served by containerd: v4 is chosen");
  assert.equal(chooseProtocol([V4_BASE64, V4], PORT_FORWARD_PROTOCOLS), V4_BASE64);
  assert.equal(chooseProtocol([], PORT_FORWARD_PROTOCOLS), "");
  assert.equal(chooseProtocol(["SPDY/3.1+portforward.k8s.io"], PORT_FORWARD_PROTOCOLS), undefined);
  assert.equal(chooseProtocol(["channel.k8s.io"], PORT_FORWARD_PROTOCOLS), undefined);
});

test("paths: the kubelet's forms parse, and what the CLI builds parses back to the same request", () => {
  const streams = { stdin: true, stdout: true, stderr: false, tty: true };
  const exec = parseRoute(execPath("ns-1", "web", "app", ["sh", "-c", "echo a&b=c"], streams));
  assert.deepEqual(exec, { kind: "exec", namespace: "ns-1", pod: "web", uid: "", container: "app", command: ["sh", "-c", "echo a&b=c"], streams });
  const withUid = parseRoute("/exec/default/web/1234-uid/app?command=ls&output=1&error=1&tty=1");
  assert.equal(withUid.kind === "exec" && withUid.uid, "1234-uid");
  assert.deepEqual(withUid.kind === "exec" && withUid.streams, { stdin: false, stdout: true, stderr: false, tty: true }, "a TTY has no separate stderr");
  assert.deepEqual(parseRoute(attachPath("default", "web", "app", { stdin: false, stdout: true, stderr: true, tty: false })), { kind: "attach", namespace: "default", pod: "web", uid: "", container: "app", streams: { stdin: false, stdout: true, stderr: true, tty: false } });
  assert.deepEqual(parseRoute(portForwardPath("default", "web", [8080, 9090])), { kind: "portForward", namespace: "default", pod: "web", uid: "", ports: [8080, 9090] });
  assert.deepEqual(parseRoute("/portForward/default/web?port=80,81").kind === "portForward" && parseRoute("/portForward/default/web?port=80,81"), { kind: "portForward", namespace: "default", pod: "web", uid: "", ports: [80, 81] });
  const since = new Date("2026-01-02T03:04:05.000Z");
  const logs = parseRoute(logsPath("default", "web", "app", { follow: true, tailLines: 10, sinceTime: since, timestamps: true, limitBytes: 5 }));
  assert.deepEqual(logs.kind === "containerLogs" && logs.logs, { follow: true, previous: false, timestamps: true, tailLines: 10, sinceSeconds: undefined, sinceTime: since, limitBytes: 5 });
});

test("paths: bad requests name what is wrong (InvalidArgument: 400); unknown paths are NotFound (404)", () => {
  const fails = (path: string, status: number, msg: RegExp): void => {
    assert.throws(() => parseRoute(path), (e: unknown) => errorCode(e) === (status === 400 ? "InvalidArgument" : "NotFound") && msg.test(errorMessage(e)), path);
  };
  fails("/exec/default/web/app?output=1", 400, /command/);
  fails("/exec/default/web/app?command=ls", 400, /at least 1 of stdin, stdout, stderr/);
  fails("/portForward/default/web", 400, /"port" is required/);
  fails("/portForward/default/web?port=0", 400, /'0' is not a port/);
  fails("/portForward/default/web?port=70000", 400, /'70000' is not a port/);
  fails("/containerLogs/default/web/app?tailLines=-2", 400, /tailLines/);
  fails("/containerLogs/default/web/app?sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z", 400, /at most one of sinceTime or sinceSeconds/);
  fails("/containerLogs/default/web/app?follow=maybe", 400, /follow: 'maybe'/);
  fails("/run/default/web/app", 404, /not found/);
  fails("/exec/default/web", 404, /not found/);
  fails("/exec//web/app?command=ls&output=1", 404, /not found/);
  fails("/exec/default/%E0%A4%A/app", 400, /malformed/);
});

test("port pairs: PORT, LOCAL:REMOTE and :REMOTE as kubectl takes them; anything else is refused by name", () => {
  assert.deepEqual(parsePortPair("8080"), { local: 8080, remote: 8080 });
  assert.deepEqual(parsePortPair("18080:80"), { local: 18080, remote: 80 });
  assert.deepEqual(parsePortPair(":80"), { local: 0, remote: 80 });
  for (const bad of ["", "0", "80:", "a:80", "0:80", "80:0", "70000", "1:2:3"]) assert.throws(() => parsePortPair(bad), new RegExp(`'${bad}' is not PORT`), bad);
});
