// Lifecycle hooks and the kubelet's way of killing a container: preStop
// inside the grace period (its time deducted, never under 2 s left), hook
// failures as events and waiting reasons, liveness/startup kill decisions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createLogger } from "@plasmacloud/common/log";
import { Pod } from "@plasmacloud/proto/k8shost";
import type { PodEvents } from "../../src/events/types";
import { runHook } from "../../src/pods/hooks";
import { ContainerKiller } from "../../src/pods/kill";
import type { ProbeKill } from "../../src/probes/manager";
import type { ExecSyncResult, PodRuntime } from "../../src/runtime/types";

const log = createLogger({ component: "test", level: "silent" });

function mkPod(container: Record<string, unknown>, over: Record<string, unknown> = {}): Pod {
  return Pod.fromPartial({ metadata: { uid: "u1", name: "web", namespace: "ns" }, spec: { containers: [{ name: "app", image: "i", ...container }], ...over } as never });
}

type ExecFn = (id: string, cmd: string[], timeout: number, signal?: AbortSignal) => Promise<ExecSyncResult>;

function fixture(exec: ExecFn, kill?: ProbeKill) {
  const stops: { id: string; grace: number }[] = [];
  const execs: { cmd: string[]; timeout: number }[] = [];
  const events: string[] = [];
  const runtime = {
    execSync: (id: string, cmd: string[], timeout: number, signal?: AbortSignal) => {
      execs.push({ cmd, timeout });
      return exec(id, cmd, timeout, signal);
    },
    stopContainer: async (id: string, grace: number) => void stops.push({ id, grace }),
  } as Pick<PodRuntime, "execSync" | "stopContainer"> as PodRuntime;
  const ev: PodEvents = { emit: (_p, type, reason, message, fieldPath) => void events.push(`${type} ${reason} ${fieldPath}: ${message}`) };
  const killer = new ContainerKiller({ runtime, events: ev, log, probes: { killFor: () => kill } });
  return { killer, stops, execs, events };
}

const exit = (code: number, stdout = "", stderr = ""): ExecFn => async () => ({ exitCode: code, stdout: Buffer.from(stdout), stderr: Buffer.from(stderr) });

test("preStop runs before the stop, inside the grace; its time comes off what StopContainer gets", async () => {
  const slow: ExecFn = async () => {
    await new Promise((r) => setTimeout(r, 1100));
    return { exitCode: 0, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  };
  const f = fixture(slow);
  const pod = mkPod({ lifecycle: { preStop: { exec: { command: ["sh", "-c", "drain"] } } } });
  await f.killer.kill({ pod, container: { id: "c1", name: "app" }, graceSeconds: 10, podIP: "" });
  assert.deepEqual(f.execs, [{ cmd: ["sh", "-c", "drain"], timeout: 10 }], "the hook is bounded by the grace period");
  assert.equal(f.stops.length, 1);
  assert.ok(f.stops[0]!.grace <= 9 && f.stops[0]!.grace >= 2, `the hook's whole seconds are deducted: ${f.stops[0]!.grace}`);
  assert.deepEqual(f.events, [], "no Killing event unless asked (deletion reports its own)");
});

test("a grace period used up by preStop still leaves the minimum 2 s; no grace: no preStop", async () => {
  const f = fixture(exit(0));
  const pod = mkPod({ lifecycle: { preStop: { sleep: { seconds: 1n } } } });
  await f.killer.kill({ pod, container: { id: "c1", name: "app" }, graceSeconds: 1, podIP: "" });
  assert.deepEqual(f.stops, [{ id: "c1", grace: 2 }]);
  const g = fixture(exit(0));
  await g.killer.kill({ pod: mkPod({ lifecycle: { preStop: { exec: { command: ["x"] } } } }), container: { id: "c2", name: "app" }, graceSeconds: 0, podIP: "" });
  assert.deepEqual(g.execs, [], "a force deletion (grace 0) runs no preStop");
  assert.deepEqual(g.stops, [{ id: "c2", grace: 2 }]);
});

test("a failed preStop is an event (without its output) and the container is stopped all the same", async () => {
  const f = fixture(exit(3, "", "secret=hunter2"));
  const pod = mkPod({ lifecycle: { preStop: { exec: { command: ["false"] } } } });
  await f.killer.kill({ pod, container: { id: "c1", name: "app" }, graceSeconds: 5, podIP: "", message: "Stopping container app" });
  assert.deepEqual(f.events, ["Normal Killing spec.containers{app}: Stopping container app", "Warning FailedPreStopHook spec.containers{app}: PreStopHook failed"]);
  assert.equal(f.stops.length, 1);
});

test("postStart failure: the container is killed, PostStartHookError says why, FailedPostStartHook is an event", async () => {
  const f = fixture(exit(1, "", "no config"));
  const pod = mkPod({ lifecycle: { postStart: { exec: { command: ["sh", "-c", "exit 1"] } } } }, { terminationGracePeriodSeconds: 4n });
  const notes = { waiting: new Map<string, { reason: string; message: string }>() };
  await f.killer.postStart(pod, pod.spec!.containers[0]!, "c1", "10.0.0.9", notes);
  assert.deepEqual(f.execs[0], { cmd: ["sh", "-c", "exit 1"], timeout: 0 }, "postStart has no timeout of its own");
  assert.deepEqual(f.stops, [{ id: "c1", grace: 4 }], "killed with the pod's grace");
  assert.deepEqual(f.events, ["Warning FailedPostStartHook spec.containers{app}: PostStartHook failed", "Normal Killing spec.containers{app}: FailedPostStartHook"]);
  const note = notes.waiting.get("app");
  assert.equal(note?.reason, "PostStartHookError");
  assert.equal(note?.message, `Exec lifecycle hook ([sh -c exit 1]) for Container "app" in Pod "web_ns(u1)" failed - error: command 'sh -c exit 1' exited with 1: no config, message: "no config"`);
  const ok = fixture(exit(0));
  await ok.killer.postStart(pod, pod.spec!.containers[0]!, "c2", "", notes);
  assert.deepEqual(ok.stops, [], "a passing postStart leaves the container alone");
});

test("a postStart still running when the pod is deleted gives up", async () => {
  const waitForAbort: ExecFn = (_id, _cmd, _t, signal) =>
    new Promise((_r, reject) => signal!.addEventListener("abort", () => reject(new Error("CRI ExecSync: Cancelled on client"))));
  const f = fixture(waitForAbort);
  const pod = mkPod({ lifecycle: { postStart: { exec: { command: ["sleep", "3600"] } } } });
  const notes = { waiting: new Map<string, { reason: string; message: string }>() };
  const run = f.killer.postStart(pod, pod.spec!.containers[0]!, "c1", "", notes);
  await new Promise((r) => setImmediate(r));
  f.killer.abortHooks("u1");
  await run;
  assert.equal(notes.waiting.get("app")?.reason, "PostStartHookError");
  assert.equal(f.stops.length, 1);
});

test("httpGet hooks: only a transport error fails them (the kubelet ignores the status code)", async () => {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(`${req.url} ${req.headers["user-agent"]}`);
    res.writeHead(500).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  try {
    const pod = mkPod({ ports: [{ name: "http", containerPort: port }] });
    const c = pod.spec!.containers[0]!;
    const run = { pod, container: c, containerId: "c1", podIP: "127.0.0.1", timeoutMs: 2000 };
    assert.equal(await runHook({ httpGet: { path: "/drain", port: "http", host: "", scheme: "", httpHeaders: [] }, exec: undefined, tcpSocket: undefined, sleep: undefined }, run, exit(0)), undefined);
    assert.match(paths[0]!, /^\/drain kube-lifecycle\/\d+\.\d+$/);
    server.close();
    await new Promise((r) => setImmediate(r));
    const failed = await runHook({ httpGet: { path: "/drain", port: String(port), host: "", scheme: "", httpHeaders: [] }, exec: undefined, tcpSocket: undefined, sleep: undefined }, run, exit(0));
    assert.match(failed ?? "", /^HTTP lifecycle hook \(\/drain\) for Container "app" in Pod "web_ns\(u1\)" failed - error: Get "http:\/\/127\.0\.0\.1:\d+\/drain": .*ECONNREFUSED/);
  } finally {
    server.close();
  }
});

test("liveness and startup kills: the probe's grace unless the pod is being deleted, restart named in the message", async () => {
  const pod = mkPod({ livenessProbe: { exec: { command: ["x"] } } }, { terminationGracePeriodSeconds: 30n });
  const c = pod.spec!.containers[0]!;
  const f = fixture(exit(0), { kind: "liveness", graceSeconds: 3 });
  assert.equal(await f.killer.ifUnhealthy(pod, c, "c1", "", "Always"), 0);
  assert.deepEqual(f.stops, [{ id: "c1", grace: 3 }]);
  assert.deepEqual(f.events, ["Normal Killing spec.containers{app}: Container app failed liveness probe, will be restarted"]);
  const g = fixture(exit(0), { kind: "startup", graceSeconds: undefined });
  await g.killer.ifUnhealthy(pod, c, "c1", "", "Never");
  assert.deepEqual(g.stops, [{ id: "c1", grace: 30 }], "the pod's grace without the probe's");
  assert.deepEqual(g.events, ["Normal Killing spec.containers{app}: Container app failed startup probe"]);
  const deleting = mkPod({}, { terminationGracePeriodSeconds: 30n });
  deleting.metadata!.deletionGracePeriodSeconds = 5n;
  const h = fixture(exit(0), { kind: "liveness", graceSeconds: 3 });
  await h.killer.ifUnhealthy(deleting, c, "c1", "", "Always");
  assert.deepEqual(h.stops, [{ id: "c1", grace: 5 }], "a deletion's grace wins over the probe's");
  const healthy = fixture(exit(0), undefined);
  assert.equal(await healthy.killer.ifUnhealthy(pod, c, "c1", "", "Always"), undefined);
  assert.deepEqual(healthy.stops, []);
});
