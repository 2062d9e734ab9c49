// Pod and node events on a real node, read back where users read them: the
// control-plane stand-in's ListEvents and `pods describe` run as a user runs
// the CLI. Repeats arrive aggregated (one event, a count), other tenants see
// nothing, and a node may report only about the pods bound to it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CreateEventRequest, ListEventsRequest, type Event } from "@plasmacloud/proto/k8shost";
import { errorCode } from "@plasmacloud/common/errors";
import { ControlPlane } from "../../src/controlplane/client";
import { BUSYBOX, clusterPerFile, startPod, waitFor, type Cluster } from "../helpers/cluster";

let c: Cluster;
clusterPerFile((started) => (c = started));

const repo = new URL("../../../", import.meta.url).pathname;
const SLEEP = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];

const eventsOf = async (cp: ControlPlane, q: Partial<ListEventsRequest>): Promise<Event[]> =>
  (await cp.call("ListEvents", cp.events.listEvents.bind(cp.events), ListEventsRequest.fromPartial(q))).items;

/** A client with its own token (written to the cluster's dir). */
function clientFor(token: string): ControlPlane {
  const file = join(c.dir, `${token}.token`);
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return new ControlPlane(c.cp.address, file, "", 5000);
}

/** The CLI as a user runs it; async, since the stand-in shares this event loop. */
function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", join(repo, "agent/src/main.ts"), ...args], {
      cwd: repo,
      env: { ...process.env, K8SHOST_SERVER_ADDR: c.cp.address, K8SHOST_TOKEN_FILE: join(c.dir, "user.token") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill("SIGKILL"), 60_000);
    p.on("error", reject);
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test("a started pod's Pulled, Created and Started events reach the control plane and `pods describe` shows them", async () => {
  const pod = await startPod(c, { metadata: { name: "ev-web" }, spec: { containers: [{ name: "app", image: BUSYBOX, command: SLEEP }] } });
  const uid = pod.metadata!.uid;
  const evs = await waitFor("Pulled, Created and Started", async () => {
    const items = await eventsOf(c.user, { involvedObjectUid: uid });
    return ["Pulled", "Created", "Started"].every((r) => items.some((e) => e.reason === r)) ? items : undefined;
  });
  const started = evs.find((e) => e.reason === "Started")!;
  assert.equal(started.message, "Started container app");
  assert.equal(started.type, "Normal");
  assert.equal(started.involvedObject!.fieldPath, "spec.containers{app}");
  assert.deepEqual(started.source, { component: "kubelet", host: c.nodeName });
  assert.equal(evs.find((e) => e.reason === "Created")!.message, "Created container app");
  assert.match(evs.find((e) => e.reason === "Pulled")!.message, new RegExp(`Container image "${BUSYBOX}" already present on machine|Successfully pulled image "${BUSYBOX}" in `));
  assert.ok(!evs.some((e) => e.reason === "Scheduled"), "the pod came bound: nobody scheduled it, and the agent reports no binding");

  const out = await cli("pods", "describe", "ev-web");
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /^Name:\s+ev-web$/m);
  assert.match(out.stdout, new RegExp(`^Node:\\s+${c.nodeName}/`, "m"));
  assert.match(out.stdout, /^Status:\s+Running$/m);
  assert.match(out.stdout, /^ {4}State:\s+Running$/m);
  assert.match(out.stdout, /^Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message$/m);
  assert.match(out.stdout, /^\s+Normal\s+Started\s+\S+\s+kubelet\s+Started container app$/m);
  assert.match(out.stdout, /^\s+Normal\s+Created\s+\S+\s+kubelet\s+Created container app$/m);

  // The node reports about itself too; the control plane's node controller registered it.
  const nodeEvents = await waitFor("node events", async () => {
    const items = await eventsOf(c.user, { involvedObjectKind: "Node", involvedObjectName: c.nodeName });
    return ["Starting", "NodeReady", "RegisteredNode"].every((r) => items.some((e) => e.reason === r)) ? items : undefined;
  });
  assert.equal(nodeEvents.find((e) => e.reason === "NodeReady")!.message, `Node ${c.nodeName} status is now: NodeReady`);
  await c.deletePod("ev-web", 0);
});

test("a crash-looping container yields one BackOff event whose count grows, not one event per sync", async () => {
  const pod = await c.createPod({ metadata: { name: "ev-crash" }, spec: { containers: [{ name: "c", image: BUSYBOX, command: ["sh", "-c", "exit 3"] }] } });
  const uid = pod.metadata!.uid;
  const backoff = await waitFor("a BackOff event counted more than once", async () => {
    const b = (await eventsOf(c.user, { involvedObjectUid: uid })).filter((e) => e.reason === "BackOff");
    return b.length === 1 && b[0]!.count > 1 ? b : undefined;
  }, 90_000, 500);
  const e = backoff[0]!;
  assert.equal(e.type, "Warning");
  assert.equal(e.message, `Back-off restarting failed container c in pod ev-crash_default(${uid})`);
  assert.ok(e.lastTimestamp!.getTime() > e.firstTimestamp!.getTime(), "first and last occurrence differ");
  const all = await eventsOf(c.user, { involvedObjectUid: uid });
  assert.equal(all.filter((x) => x.reason === "BackOff").length, 1, "one event object for every repeat");
  assert.equal(all.filter((x) => x.reason === "Started").length, 1, "the restarts' Started events are one event too");
  assert.ok(all.find((x) => x.reason === "Started")!.count > 1);

  const out = await cli("pods", "describe", "ev-crash", "-n", "default");
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /^\s+Warning\s+BackOff\s+\S+ \(x\d+ over \S+\)\s+kubelet\s+Back-off restarting failed container c in pod/m);
  assert.match(out.stdout, /^ {4}Last State:\s+Terminated\n\s+Reason:\s+Error\n\s+Exit Code:\s+3$/m);
  await c.deletePod("ev-crash", 0);
});

test("a volume that cannot be set up is reported as one FailedMount event", async () => {
  const pod = await c.createPod({
    metadata: { name: "ev-mount" },
    spec: { containers: [{ name: "app", image: BUSYBOX, command: SLEEP, volumeMounts: [{ name: "cfg", mountPath: "/cfg" }] }], volumes: [{ name: "cfg", configMap: { name: "ev-missing" } }] },
  });
  const failed = await waitFor("FailedMount", async () => {
    const f = (await eventsOf(c.user, { involvedObjectUid: pod.metadata!.uid })).filter((e) => e.reason === "FailedMount");
    return f.length > 0 ? f : undefined;
  }, 60_000);
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.type, "Warning");
  assert.match(failed[0]!.message, /MountVolume.SetUp failed for volume "cfg": configmap "ev-missing" not found/);
  await c.deletePod("ev-mount", 0);
});

test("another tenant's user cannot list the events; a node cannot report about a pod not bound to it", async () => {
  const pod = await startPod(c, { metadata: { name: "ev-private" }, spec: { containers: [{ name: "app", image: BUSYBOX, command: SLEEP }] } });
  const uid = pod.metadata!.uid;
  await waitFor("Started", async () => (await eventsOf(c.user, { involvedObjectUid: uid })).some((e) => e.reason === "Started"));
  c.tokens.add("bob-token", { name: "user:bob", kind: "user", orgId: "org-b", projectId: "proj-b" });
  c.tokens.add("other-node-token", { name: "system:node:other", kind: "node", orgId: "", projectId: "", nodeName: "other" });
  const bob = clientFor("bob-token");
  const node = clientFor("node-token");
  const otherNode = clientFor("other-node-token");
  try {
    assert.equal((await eventsOf(bob, { involvedObjectUid: uid })).length, 0, "another tenant sees none of them");
    assert.equal(await eventsOf(bob, { orgId: "org-a", projectId: "proj-a" }).then(() => "listed", errorCode), "NotFound");

    // A pod bound to another node: this node's token may not report about it.
    const elsewhere = await c.createPod({ metadata: { name: "ev-elsewhere" }, spec: { nodeName: "other", containers: [{ name: "app", image: BUSYBOX }] } });
    const about = (name: string, podUid: string) =>
      CreateEventRequest.fromPartial({
        event: {
          metadata: { name: `${name}.1`, namespace: "default", orgId: "org-a", projectId: "proj-a" },
          involvedObject: { kind: "Pod", namespace: "default", name, uid: podUid },
          reason: "Started",
          message: "forged",
          type: "Normal",
          source: { component: "kubelet", host: c.nodeName },
        },
      });
    const create = (cp: ControlPlane, req: CreateEventRequest) => cp.call("CreateEvent", cp.events.createEvent.bind(cp.events), req).then(() => "created", errorCode);
    assert.equal(await create(node, about("ev-elsewhere", elsewhere.metadata!.uid)), "NotFound");
    assert.equal(await create(otherNode, about("ev-private", uid)), "NotFound", "nor may another node about this node's pod");
    assert.equal(await create(otherNode, about("ev-elsewhere", elsewhere.metadata!.uid)), "created", "the node it is bound to may");
    await c.deletePodRef("default", "ev-elsewhere");
  } finally {
    bob.close();
    node.close();
    otherNode.close();
  }
  await c.deletePod("ev-private", 0);
});
