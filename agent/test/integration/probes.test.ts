// Probes and lifecycle hooks against the real containerd, checked from
// outside: the control plane's pod status (and every status it saw), CRI's
// containers, a hostPath file the containers and their hooks append to, and
// the events the control plane received.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ContainerStatus, Pod } from "@plasmacloud/proto/k8shost";
import { BUSYBOX, podRunning, startCluster, waitFor, type Cluster } from "../helpers/cluster";
import { containersOf, execIn, isRunning } from "../helpers/cri";

let c: Cluster;
const hostRoot = mkdtempSync(join(tmpdir(), "agent-it-probes-"));
before(async () => {
  c = await startCluster({ extraConfig: `volumes: { hostPathPrefixes: ["${hostRoot}"] }` });
});
after(async () => {
  await c?.close();
  rmSync(hostRoot, { recursive: true, force: true });
});

const sh = (script: string): string[] => ["sh", "-c", script];
/** A main process that ends at once on SIGTERM (PID 1 gets no default handler), after noting it. */
const app = (before = ""): string[] => sh(`trap 'echo term >> /w/log 2>/dev/null; exit 143' TERM; ${before} sleep 3600 & wait`);

/** A hostPath dir shared by a pod's containers and hooks; the host reads its log file. */
function shared(name: string) {
  const dir = join(hostRoot, name);
  mkdirSync(dir);
  return { log: join(dir, "log"), volumes: [{ name: "w", hostPath: { path: dir, type: "Directory" } }], mount: [{ name: "w", mountPath: "/w" }] };
}
const lines = (file: string): string[] => {
  try {
    return readFileSync(file, "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
};

const status = (p: Pod | undefined, name: string): ContainerStatus | undefined => p?.status?.containerStatuses.find((s) => s.name === name);
const condition = (p: Pod | undefined, type: string): string | undefined => p?.status?.conditions.find((x) => x.type === type)?.status;

/** Events the control plane holds for a pod (the agent's recorder sends them). */
function events(uid: string): { reason: string; message: string; fieldPath: string }[] {
  return [...c.cp.events.all()].filter((e) => e.event.involvedObject?.uid === uid).map((e) => ({ reason: e.event.reason, message: e.event.message, fieldPath: e.event.involvedObject?.fieldPath ?? "" }));
}

/** Every status the control plane received for a pod, from now on. */
function recordStatuses(name: string): { seen: ContainerStatus[][]; stop: () => void } {
  const seen: ContainerStatus[][] = [];
  const stop = c.store.watch(c.store.rv, (ev) => {
    if (ev.pod.metadata?.name === name && ev.pod.status) seen.push(ev.pod.status.containerStatuses);
  });
  return { seen, stop };
}

test("a container that stops answering its liveness probe is killed and restarted", async () => {
  const created = await c.createPod({
    metadata: { name: "live" },
    spec: {
      containers: [
        {
          name: "web",
          image: BUSYBOX,
          command: sh(`mkdir -p /www && echo ok > /www/healthz; trap 'exit 143' TERM; httpd -f -p 8080 -h /www & wait`),
          ports: [{ name: "http", containerPort: 8080 }],
          livenessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 1, failureThreshold: 2, terminationGracePeriodSeconds: 5n },
        },
      ],
    },
  });
  const uid = created.metadata!.uid;
  const running = await podRunning(c, "live", (p) => status(p, "web")?.ready === true);
  const first = status(running, "web")!.containerId.replace(/^[a-z]+:\/\//, "");
  // Healthy for a while: probes pass, nothing restarts.
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(status(await c.getPod("live"), "web")?.restartCount, 0);
  await execIn(first, ["rm", "/www/healthz"]); // from now on: 404
  const restarted = await waitFor("the container restarted", async () => {
    const p = await c.getPod("live");
    const s = status(p, "web");
    return s && s.restartCount >= 1 && s.state?.running && s.ready ? p : undefined;
  }, 30_000);
  const s = status(restarted, "web")!;
  assert.equal(s.lastState?.terminated?.exitCode, 143, "the old instance was stopped with SIGTERM (its trap's exit code)");
  assert.equal(s.lastState?.terminated?.reason, "Error");
  assert.equal(s.lastState?.terminated?.containerId.replace(/^[a-z]+:\/\//, ""), first);
  // From outside: the first instance exited, a new one (attempt 1) runs in its place and is healthy again.
  const ctrs = await containersOf(uid);
  assert.ok(!ctrs.some((x) => x.id === first && isRunning(x)), "the killed container does not run");
  const now = ctrs.find((x) => isRunning(x));
  assert.ok(now && now.id !== first && now.metadata!.attempt >= 1);
  await waitFor("Unhealthy and Killing events", () => {
    const ev = events(uid);
    return ev.some((e) => e.reason === "Unhealthy" && /^Liveness probe failed: HTTP probe failed with statuscode: 404/.test(e.message) && e.fieldPath === "spec.containers{web}") &&
      ev.some((e) => e.reason === "Killing" && e.message === "Container web failed liveness probe, will be restarted");
  }, 10_000);
  await c.deletePod("live", 0);
});

test("restartPolicy OnFailure: a container killed by its liveness probe is restarted even when it exits 0 on SIGTERM", async () => {
  await c.createPod({
    metadata: { name: "live0" },
    spec: {
      restartPolicy: "OnFailure",
      containers: [{
        name: "app",
        image: BUSYBOX,
        // Healthy until /tmp/sick appears; SIGTERM is answered with a clean exit, as many servers do.
        command: sh("trap 'exit 0' TERM; while true; do sleep 0.2; done"),
        livenessProbe: { exec: { command: ["sh", "-c", "test ! -e /tmp/sick"] }, periodSeconds: 1, failureThreshold: 1, terminationGracePeriodSeconds: 2n },
      }],
    },
  });
  const running = await podRunning(c, "live0");
  const first = status(running, "app")!.containerId.replace(/^[a-z]+:\/\//, "");
  await execIn(first, ["touch", "/tmp/sick"]);
  const restarted = await waitFor("restarted after the liveness kill", async () => {
    const p = await c.getPod("live0");
    const s = status(p, "app");
    return s && s.restartCount >= 1 && s.state?.running ? s : undefined;
  }, 30_000);
  assert.equal(restarted.lastState?.terminated?.exitCode, 0, "the killed instance exited 0, and was restarted all the same");
  assert.equal(restarted.lastState?.terminated?.containerId.replace(/^[a-z]+:\/\//, ""), first);
  await c.deletePod("live0", 0);
});

test("readiness flips the container's ready and the pod's Ready both ways", async () => {
  await c.createPod({
    metadata: { name: "ready" },
    spec: {
      terminationGracePeriodSeconds: 1n,
      containers: [{ name: "app", image: BUSYBOX, command: sh("trap 'exit 0' TERM; sleep 3600 & wait"), readinessProbe: { exec: { command: ["cat", "/tmp/ready"] }, periodSeconds: 1, failureThreshold: 1 } }],
    },
  });
  const notReady = await podRunning(c, "ready");
  const s = status(notReady, "app")!;
  assert.equal(s.ready, false, "a readiness probe that has not passed: not ready");
  assert.equal(s.started, true, "started: no startup probe and running");
  assert.equal(condition(notReady, "Ready"), "False");
  assert.equal(condition(notReady, "ContainersReady"), "False");
  const id = s.containerId.replace(/^[a-z]+:\/\//, "");
  await execIn(id, ["touch", "/tmp/ready"]);
  const ready = await waitFor("Ready", async () => {
    const p = await c.getPod("ready");
    return condition(p, "Ready") === "True" ? p : undefined;
  });
  assert.equal(status(ready, "app")?.ready, true);
  assert.equal(condition(ready, "ContainersReady"), "True");
  await execIn(id, ["rm", "/tmp/ready"]);
  const again = await waitFor("not Ready again", async () => {
    const p = await c.getPod("ready");
    return condition(p, "Ready") === "False" ? p : undefined;
  });
  assert.equal(status(again, "app")?.ready, false);
  assert.equal(status(again, "app")?.restartCount, 0, "readiness never restarts");
  await c.deletePod("ready", 0);
});

test("a startup probe holds liveness back until it passes; the restarted container is judged afresh", async () => {
  const created = await c.createPod({
    metadata: { name: "slow" },
    spec: {
      terminationGracePeriodSeconds: 2n,
      containers: [
        {
          name: "app",
          image: BUSYBOX,
          command: sh("trap 'exit 143' TERM; sleep 3600 & wait"),
          startupProbe: { exec: { command: ["test", "-e", "/tmp/started"] }, periodSeconds: 1, failureThreshold: 60 },
          // Would kill the container at its first run: only the startup probe keeps it alive.
          livenessProbe: { exec: { command: ["false"] }, periodSeconds: 1, failureThreshold: 1 },
        },
      ],
    },
  });
  const pod = await podRunning(c, "slow");
  const id = status(pod, "app")!.containerId.replace(/^[a-z]+:\/\//, "");
  assert.equal(status(pod, "app")?.started, false);
  assert.equal(status(pod, "app")?.ready, false, "not ready before started");
  // Several liveness periods pass: no kill while the startup probe has not passed.
  await new Promise((r) => setTimeout(r, 4000));
  const held = status(await c.getPod("slow"), "app")!;
  assert.equal(held.restartCount, 0);
  assert.equal(held.started, false);
  await execIn(id, ["touch", "/tmp/started"]);
  const restarted = await waitFor("liveness kills it once started", async () => {
    const p = await c.getPod("slow");
    const s = status(p, "app");
    return s && s.restartCount === 1 && s.state?.running ? p : undefined;
  }, 30_000);
  assert.ok(restarted);
  assert.ok(events(created.metadata!.uid).some((e) => e.reason === "Killing" && e.message === "Container app failed liveness probe, will be restarted"));
  // The new instance has no /tmp/started: its own startup probe holds liveness again.
  await new Promise((r) => setTimeout(r, 3000));
  const after = status(await c.getPod("slow"), "app")!;
  assert.equal(after.restartCount, 1, "no second kill");
  assert.equal(after.started, false);
  await c.deletePod("slow", 0);
});

test("preStop runs before SIGTERM on deletion, inside the grace period", async () => {
  const s = shared("prestop");
  await c.createPod({
    metadata: { name: "prestop" },
    spec: {
      volumes: s.volumes,
      terminationGracePeriodSeconds: 20n,
      containers: [
        {
          name: "app",
          image: BUSYBOX,
          command: app("echo started >> /w/log;"),
          volumeMounts: s.mount,
          lifecycle: { preStop: { exec: { command: sh("echo prestop >> /w/log; sleep 1; echo prestop-done >> /w/log") } } },
        },
      ],
    },
  });
  await podRunning(c, "prestop");
  await waitFor("started", () => lines(s.log).includes("started"));
  await c.deletePod("prestop");
  await waitFor("pod gone", async () => !(await c.getPod("prestop")), 30_000);
  assert.deepEqual(lines(s.log), ["started", "prestop", "prestop-done", "term"]);
});

test("a failing postStart kills the container: PostStartHookError, a restart, FailedPostStartHook", async () => {
  const s = shared("poststart");
  const seen = recordStatuses("poststart");
  try {
    const created = await c.createPod({
      metadata: { name: "poststart" },
      spec: {
        volumes: s.volumes,
        terminationGracePeriodSeconds: 2n,
        containers: [{ name: "app", image: BUSYBOX, command: app(), volumeMounts: s.mount, lifecycle: { postStart: { exec: { command: sh("echo hook >> /w/log; exit 3") } } } }],
      },
    });
    const uid = created.metadata!.uid;
    await waitFor("a restart after the failed hook", async () => (status(await c.getPod("poststart"), "app")?.restartCount ?? 0) >= 1, 30_000);
    const waiting = seen.seen.flat().find((x) => x.name === "app" && x.state?.waiting?.reason === "PostStartHookError");
    assert.ok(waiting, `PostStartHookError reported; saw ${JSON.stringify(seen.seen.flat().map((x) => x.state?.waiting?.reason ?? (x.state?.running ? "running" : x.state?.terminated?.reason)))}`);
    assert.match(waiting.state!.waiting!.message, /^Exec lifecycle hook \(\[sh -c echo hook >> \/w\/log; exit 3\]\) for Container "app" in Pod "poststart_default\(.+\)" failed - error: command '.+' exited with 3/);
    assert.equal(waiting.lastState?.terminated?.exitCode, 143, "the container was stopped (its TERM trap's exit)");
    assert.ok(lines(s.log).filter((l) => l === "hook").length >= 1, "the hook ran in the container");
    assert.ok(lines(s.log).includes("term"), "killed with SIGTERM first");
    // From outside: the instance whose hook failed does not run.
    const failed = waiting.lastState!.terminated!.containerId.replace(/^[a-z]+:\/\//, "");
    const ctrs = await containersOf(uid);
    assert.ok(ctrs.some((x) => x.id === failed) && !ctrs.some((x) => x.id === failed && isRunning(x)));
    await waitFor("FailedPostStartHook event", () => events(uid).some((e) => e.reason === "FailedPostStartHook" && e.fieldPath === "spec.containers{app}"), 10_000);
  } finally {
    seen.stop();
  }
  await c.deletePod("poststart", 0);
});
