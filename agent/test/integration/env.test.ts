// Env from objects and the downward API, and termination messages, on a real
// node, checked from outside the agent: `env` and files inside the container
// through CRI ExecSync, the container's log, the pod's status and events in
// the control plane, the node's pod directory.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ControlPlane } from "../../src/controlplane/client";
import { TenantKeys } from "@plasmacloud/proto/annotations";
import { CreateConfigMapRequest, CreatePodRequest, CreateSecretRequest, DeleteConfigMapRequest, DeletePodRequest, GetPodRequest, ListEventsRequest, Pod, UpdatePodRequest } from "@plasmacloud/proto/k8shost";
import { BUSYBOX, OTHER_TENANT_SUBNET, clusterPerFile, podRunning, waitFor, type Cluster } from "../helpers/cluster";
import { containersOf, execIn, isRunning } from "../helpers/cri";

let c: Cluster;
clusterPerFile((started) => (c = started));

const SLEEP = "trap 'exit 0' TERM; while true; do sleep 1; done";

async function createConfigMap(name: string, data: Record<string, string>): Promise<void> {
  await c.user.call("CreateConfigMap", c.user.configMaps.createConfigMap.bind(c.user.configMaps), CreateConfigMapRequest.fromPartial({ configMap: { metadata: { name, namespace: "default" }, data } }));
}

async function createSecret(name: string, data: Record<string, string>, as: ControlPlane = c.user): Promise<void> {
  const bytes = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v)]));
  await as.call("CreateSecret", as.secrets.createSecret.bind(as.secrets), CreateSecretRequest.fromPartial({ secret: { metadata: { name, namespace: "default" }, type: "Opaque", data: bytes } }));
}

async function gone(name: string): Promise<void> {
  await c.deletePod(name, 0);
  await waitFor(`pod ${name} finalized`, async () => (await c.getPod(name)) === undefined, 30_000);
}

/** Runs a command in the pod's running container through CRI. */
async function execOut(uid: string, cmd: string[], container = "c"): Promise<string> {
  const ctr = (await containersOf(uid)).find((x) => x.metadata?.name === container && isRunning(x));
  assert.ok(ctr, `container ${container} running`);
  const r = await execIn(ctr.id, cmd);
  assert.equal(r.exitCode, 0, r.stderr);
  return r.stdout;
}

async function envOf(uid: string): Promise<Record<string, string>> {
  const out = await execOut(uid, ["env"]);
  return Object.fromEntries(out.split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}

function logOf(pod: Pod, container: string): string {
  const m = pod.metadata!;
  const dir = join(c.dir, "logs", `${m.namespace}_${m.name}_${m.uid}`, container);
  if (!existsSync(dir)) return "";
  return readdirSync(dir).map((f) => readFileSync(join(dir, f), "utf8")).join("");
}

async function waiting(name: string, reason: string, message?: string, get: (n: string) => Promise<Pod | undefined> = (n) => c.getPod(n)): Promise<Pod> {
  return waitFor(`${name} waiting with ${reason}${message ? `: ${message}` : ""}`, async () => {
    const p = await get(name);
    const w = p?.status?.containerStatuses[0]?.state?.waiting;
    return w?.reason === reason && (message === undefined || w.message === message) ? p : undefined;
  }, 30_000);
}

test("env from a configMap, a secret and the pod's fields, with $(VAR) expansion in env and command; invalid envFrom keys are reported", async () => {
  await createConfigMap("app-config", { GREETING: "hello", MODE: "fast", "bad-key!": "x" });
  await createSecret("app-secret", { password: "s3cret" });
  await c.createPod({
    metadata: { name: "envy", labels: { app: "envy" } },
    spec: {
      terminationGracePeriodSeconds: 1n,
      containers: [{
        name: "c",
        image: BUSYBOX,
        // The shell prints its $0 untouched: what it shows is the kubelet-style expansion alone.
        command: ["sh", "-c", `echo "$0"; ${SLEEP}`],
        args: ["CMD=$(MESSAGE) ESC=$$(MESSAGE) MODE=$(CFG_MODE)"],
        resources: { requests: { memory: "32Mi" }, limits: { memory: "64Mi" } },
        envFrom: [{ configMapRef: { name: "app-config" }, prefix: "CFG_" }],
        env: [
          { name: "PASSWORD", valueFrom: { secretKeyRef: { name: "app-secret", key: "password" } } },
          { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          { name: "POD_NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
          { name: "POD_UID", valueFrom: { fieldRef: { fieldPath: "metadata.uid" } } },
          { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
          { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
          { name: "HOST_IP", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } },
          { name: "MEM_LIMIT_MI", valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } } },
          { name: "MESSAGE", value: "$(CFG_GREETING) from $(POD_NAME) ($(UNKNOWN))" },
        ],
      }],
    },
  });
  const pod = await podRunning(c, "envy", undefined, 60_000);
  const uid = pod.metadata!.uid;
  const env = await envOf(uid);
  assert.equal(env.CFG_GREETING, "hello");
  assert.equal(env.CFG_MODE, "fast");
  assert.equal(env["CFG_bad-key!"], undefined, "an invalid name is skipped");
  assert.equal(env.PASSWORD, "s3cret");
  assert.equal(env.POD_NAME, "envy");
  assert.equal(env.POD_NS, "default");
  assert.equal(env.POD_UID, uid);
  assert.equal(env.APP, "envy");
  assert.equal(env.NODE, c.nodeName);
  assert.equal(env.POD_IP, pod.status!.podIp, "the sandbox's IP, known before the container was made");
  assert.match(env.POD_IP!, /^10\.77\.0\.\d+$/);
  assert.equal(env.HOST_IP, pod.status!.hostIp);
  assert.equal(env.MEM_LIMIT_MI, "64");
  assert.equal(env.MESSAGE, "hello from envy ($(UNKNOWN))");
  await waitFor("the command's output", () => logOf(pod, "c").includes("CMD="));
  assert.match(logOf(pod, "c"), / stdout F CMD=hello from envy \(\$\(UNKNOWN\)\) ESC=\$\(MESSAGE\) MODE=fast\n/);
  const events = await waitFor("an InvalidEnvironmentVariableNames event", async () => {
    const res = await c.user.call("ListEvents", c.user.events.listEvents.bind(c.user.events), ListEventsRequest.fromPartial({ namespace: "default", involvedObjectName: "envy" }));
    return res.items.find((e) => e.reason === "InvalidEnvironmentVariableNames");
  });
  assert.equal(events.type, "Warning");
  assert.equal(events.message, "Keys [CFG_bad-key!] from the EnvFrom configMap default/app-config were skipped since they are considered invalid environment variable names.");
  await gone("envy");
});

test("a missing object or key holds the container in CreateContainerConfigError until it exists; optional ones are skipped", async () => {
  const created = await c.createPod({
    metadata: { name: "patient" },
    spec: {
      terminationGracePeriodSeconds: 1n,
      containers: [{
        name: "c",
        image: BUSYBOX,
        command: ["sh", "-c", SLEEP],
        envFrom: [{ secretRef: { name: "no-such-secret", optional: true } }],
        env: [
          { name: "LATE", valueFrom: { configMapKeyRef: { name: "late", key: "k" } } },
          { name: "OPT_KEY", valueFrom: { configMapKeyRef: { name: "late", key: "absent", optional: true } } },
          { name: "OPT_OBJ", valueFrom: { secretKeyRef: { name: "no-such-secret", key: "k", optional: true } } },
        ],
      }],
    },
  });
  const uid = created.metadata!.uid;
  const p1 = await waiting("patient", "CreateContainerConfigError", 'configmap "late" not found');
  assert.equal(p1.status!.phase, "Pending");
  assert.equal((await containersOf(uid)).length, 0, "no container is created");
  const failed = await waitFor("a Failed event naming the missing object", async () => {
    const res = await c.user.call("ListEvents", c.user.events.listEvents.bind(c.user.events), ListEventsRequest.fromPartial({ namespace: "default", involvedObjectName: "patient" }));
    return res.items.find((e) => e.reason === "Failed");
  });
  assert.equal(failed.message, 'Error: configmap "late" not found');
  assert.equal(failed.involvedObject?.fieldPath, "spec.containers{c}");
  await createConfigMap("late", { other: "x" });
  await waiting("patient", "CreateContainerConfigError", "couldn't find key k in ConfigMap default/late");
  await c.user.call("DeleteConfigMap", c.user.configMaps.deleteConfigMap.bind(c.user.configMaps), DeleteConfigMapRequest.fromPartial({ ref: { namespace: "default", name: "late" } }));
  await createConfigMap("late", { k: "finally" });
  await podRunning(c, "patient", undefined, 30_000);
  const env = await envOf(uid);
  assert.equal(env.LATE, "finally");
  assert.ok(!("OPT_KEY" in env) && !("OPT_OBJ" in env), "optional references that are missing are skipped");
  await gone("patient");
});

test("another tenant's secret is never given: the container waits with `secret not found`", async () => {
  c.tokens.add("user-b-token", { name: "user:bob", kind: "user", orgId: "org-b", projectId: "proj-b" });
  writeFileSync(join(c.dir, "user-b.token"), "user-b-token\n", { mode: 0o600 });
  const other = new ControlPlane(c.cp.address, join(c.dir, "user-b.token"), "", 5000);
  try {
    await createSecret("only-in-a", { token: "org-a-only" });
    const p = await other.call("CreatePod", other.pods.createPod.bind(other.pods), CreatePodRequest.fromPartial({
      pod: Pod.fromPartial({
        metadata: { name: "thief", namespace: "default", annotations: { [TenantKeys.subnetId]: OTHER_TENANT_SUBNET } },
        spec: {
          nodeName: c.nodeName,
          terminationGracePeriodSeconds: 1n,
          containers: [{ name: "c", image: BUSYBOX, command: ["sh", "-c", SLEEP], env: [{ name: "STOLEN", valueFrom: { secretKeyRef: { name: "only-in-a", key: "token" } } }] }],
        },
      }),
    }));
    const get = (name: string): Promise<Pod> => other.call("GetPod", other.pods.getPod.bind(other.pods), GetPodRequest.fromPartial({ ref: { namespace: "default", name } }));
    await waiting("thief", "CreateContainerConfigError", 'secret "only-in-a" not found', get);
    assert.equal((await containersOf(p.metadata!.uid)).length, 0, "no container is created");
    await other.call("DeletePod", other.pods.deletePod.bind(other.pods), DeletePodRequest.fromPartial({ ref: { namespace: "default", name: "thief" }, gracePeriodSeconds: 0n }));
    await waitFor("thief finalized", async () => !(await get("thief").then(() => true, () => false)), 30_000);
  } finally {
    other.close();
  }
});

test("a downward API volume shows the labels and follows a label change", async () => {
  await c.createPod({
    metadata: { name: "labelled", labels: { app: "dw", zone: "a" }, annotations: { note: "first" } },
    spec: {
      terminationGracePeriodSeconds: 1n,
      securityContext: { fsGroup: 2000n },
      containers: [{ name: "c", image: BUSYBOX, command: ["sh", "-c", SLEEP], resources: { limits: { cpu: "250m" } }, volumeMounts: [{ name: "info", mountPath: "/etc/podinfo" }] }],
      volumes: [{
        name: "info",
        downwardApi: {
          defaultMode: 0o440,
          items: [
            { path: "labels", fieldRef: { fieldPath: "metadata.labels" } },
            { path: "meta/zone", fieldRef: { fieldPath: "metadata.labels['zone']" } },
            { path: "name", fieldRef: { fieldPath: "metadata.name" }, mode: 0o600 },
            { path: "cpu_m", resourceFieldRef: { containerName: "c", resource: "limits.cpu", divisor: "1m" } },
          ],
        },
      }],
    },
  });
  const pod = await podRunning(c, "labelled", undefined, 60_000);
  const uid = pod.metadata!.uid;
  assert.equal(await execOut(uid, ["cat", "/etc/podinfo/labels"]), 'app="dw"\nzone="a"');
  assert.equal(await execOut(uid, ["cat", "/etc/podinfo/meta/zone"]), "a");
  assert.equal(await execOut(uid, ["cat", "/etc/podinfo/name"]), "labelled");
  assert.equal(await execOut(uid, ["cat", "/etc/podinfo/cpu_m"]), "250");
  assert.match(await execOut(uid, ["stat", "-L", "-c", "%a %g", "/etc/podinfo/name", "/etc/podinfo/labels"]), /^640 2000\n440 2000\n$/, "item and default modes, group-readable and group-owned by fsGroup");
  const denied = await execIn((await containersOf(uid)).find(isRunning)!.id, ["touch", "/etc/podinfo/new"]);
  assert.notEqual(denied.exitCode, 0, "read-only for the pod");

  const cur = (await c.getPod("labelled"))!;
  cur.metadata!.labels = { app: "dw", zone: "b", added: "yes" };
  cur.metadata!.resourceVersion = "";
  await c.user.call("UpdatePod", c.user.pods.updatePod.bind(c.user.pods), UpdatePodRequest.fromPartial({ pod: cur }));
  await waitFor("the new labels in the running container", async () => (await execOut(uid, ["cat", "/etc/podinfo/labels"])) === 'added="yes"\napp="dw"\nzone="b"', 30_000);
  assert.equal(await execOut(uid, ["cat", "/etc/podinfo/meta/zone"]), "b");
  await gone("labelled");
  await waitFor("the pod's directory removed", () => !existsSync(join(c.rootDir, "pods", uid)));
});

test("termination messages: the file's content, FallbackToLogsOnError's log tail, a custom path as non-root; lastState after a restart", async () => {
  await c.createPod({
    metadata: { name: "finisher" },
    spec: {
      restartPolicy: "Never",
      containers: [
        { name: "file", image: BUSYBOX, command: ["sh", "-c", "printf 'all done: %s' 42 > /dev/termination-log; exit 3"] },
        { name: "logs", image: BUSYBOX, terminationMessagePolicy: "FallbackToLogsOnError", command: ["sh", "-c", "for i in $(seq 1 100); do echo line $i; done; exit 2"] },
        { name: "custom", image: BUSYBOX, terminationMessagePath: "/tmp/why", securityContext: { runAsUser: 1000n }, command: ["sh", "-c", "echo -n custom-path > /tmp/why"] },
      ],
    },
  });
  const done = await waitFor("finisher's containers all terminated", async () => {
    const p = await c.getPod("finisher");
    return p?.status?.containerStatuses.length === 3 && p.status.containerStatuses.every((s) => s.state?.terminated) ? p : undefined;
  }, 60_000);
  const term = (name: string) => done.status!.containerStatuses.find((s) => s.name === name)!.state!.terminated!;
  assert.equal(term("file").exitCode, 3);
  assert.equal(term("file").message, "all done: 42");
  assert.equal(term("logs").exitCode, 2);
  assert.equal(term("logs").message, Array.from({ length: 80 }, (_, i) => `line ${i + 21}\n`).join(""));
  assert.equal(term("custom").exitCode, 0);
  assert.equal(term("custom").message, "custom-path");
  assert.equal(done.status!.phase, "Failed");
  await gone("finisher");

  const created = await c.createPod({
    metadata: { name: "crasher" },
    spec: {
      terminationGracePeriodSeconds: 1n,
      containers: [{ name: "c", image: BUSYBOX, command: ["sh", "-c", "echo -n crashed > /dev/termination-log; exit 1"] }],
    },
  });
  const restarted = await waitFor("crasher restarted with the message in lastState", async () => {
    const p = await c.getPod("crasher");
    const s = p?.status?.containerStatuses[0];
    return s && s.restartCount >= 1 && s.lastState?.terminated?.message === "crashed" ? s : undefined;
  }, 60_000);
  assert.equal(restarted.lastState!.terminated!.exitCode, 1);
  const files = readdirSync(join(c.rootDir, "pods", created.metadata!.uid, "containers", "c"));
  assert.ok(files.length >= 1 && files.length <= 2, `at most the newest two instances' files: ${files.join(", ")}`);
  await gone("crasher");
  await waitFor("the termination files gone with the pod", () => !existsSync(join(c.rootDir, "pods", created.metadata!.uid)));
});
