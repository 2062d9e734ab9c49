// The relist on containerd's events (pods/pleg.ts, runtime/events.ts): with
// runtime.relistSeconds 1 but eventedRelistSeconds 300, an idle agent lists
// almost nothing, yet a container killed from outside is restarted within
// seconds (only an event can tell it so soon); when the events are cut (a
// proxy in front of containerd's socket) the agent is back on the 1 s relist;
// a runtime without them (Unimplemented) is noticed once.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials, Metadata, status } from "@grpc/grpc-js";
import { unary } from "@plasmacloud/common/grpc";
import { ContainerStatusRequest, RuntimeServiceClient } from "@plasmacloud/proto/cri";
import { BUSYBOX, CONTAINERD_SOCK, clusterPerFile, podRunning, startPod, waitFor, type Cluster } from "../helpers/cluster";
import { containersOf, isRunning, sandboxesOf } from "../helpers/cri";
import { startCriProxy, type CriProxy } from "../helpers/cri-proxy";

const PROXY_SOCK = join(tmpdir(), `pleg-events-${randomBytes(4).toString("hex")}.sock`);
let proxy: CriProxy;
let c: Cluster;
before(async () => {
  proxy = await startCriProxy(PROXY_SOCK, CONTAINERD_SOCK);
});
clusterPerFile((started) => (c = started), { runtime: { endpoint: `unix://${PROXY_SOCK}`, relistSeconds: 1, eventedRelistSeconds: 300 } });
after(async () => proxy?.close()); // after the cluster's own teardown, which still speaks CRI through it

const cri = new RuntimeServiceClient(`unix://${CONTAINERD_SOCK}`, credentials.createInsecure());
after(() => cri.close());

async function metric(name: string): Promise<number> {
  const endpoint = /"healthz":"([^"]+)"/.exec(c.agent.output)?.[1];
  assert.ok(endpoint, "the agent logs its local endpoint");
  const text = await (await fetch(`http://${endpoint}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(" ")[1]) : 0;
}
const LIST_CONTAINERS = 'k8shost_agent_cri_call_duration_seconds_count{method="ListContainers"}';
const CONNECTED = "k8shost_agent_evented_pleg_connection_success_count";
const CONN_ERRORS = "k8shost_agent_evented_pleg_connection_error_count";

/** The agent's ListContainers calls over `ms` of an idle node. */
async function listCallsOver(ms: number): Promise<number> {
  const before = await metric(LIST_CONTAINERS);
  await new Promise((r) => setTimeout(r, ms));
  return (await metric(LIST_CONTAINERS)) - before;
}

/** SIGKILLs the pod's running container from outside the agent (its process, found through CRI). */
async function killContainer(uid: string): Promise<void> {
  const running = (await containersOf(uid)).find(isRunning);
  assert.ok(running, "a running container to kill");
  const st = await unary(cri, "CRI", cri.containerStatus.bind(cri), ContainerStatusRequest.fromPartial({ containerId: running.id, verbose: true }), { metadata: new Metadata(), timeoutMs: 10_000 });
  const pid = (JSON.parse(st.info.info ?? "{}") as { pid?: number }).pid;
  assert.ok(pid && pid > 1, `the container's pid (${pid})`);
  process.kill(pid, "SIGKILL");
}

/**
 * Waits until the pod's container, SIGKILLed once, is running again with the kill as its last state: a
 * first restart comes at once (CrashLoopBackOff starts at the second). Seconds, not the 300 s relist.
 */
function restarted(name: string): Promise<unknown> {
  return podRunning(c, name, (p) => {
    const s = p.status?.containerStatuses[0];
    return s?.restartCount === 1 && s.lastState?.terminated?.exitCode === 137 && !!s.state?.running;
  }, 10_000);
}

/** A pod whose one container sleeps, to be killed (a fresh one per test: no crash-loop backoff in the way). */
const victim = (name: string) => ({ metadata: { name }, spec: { terminationGracePeriodSeconds: 1n, containers: [{ name: "v", image: BUSYBOX, command: ["sleep", "3600"] }] } });

test("events on: an idle agent barely lists, and a container killed from outside restarts within seconds", async () => {
  const pod = await startPod(c, victim("victim-a"));
  await waitFor("the events to be up", async () => (await metric(CONNECTED)) >= 1, 15_000);
  await new Promise((r) => setTimeout(r, 2000)); // the start's second looks are over
  // The 1 s relist would make 10 calls; the log rotation's check makes one per 10 s.
  const calls = await listCallsOver(10_000);
  assert.ok(calls <= 2, `${calls} ListContainers calls in 10 idle seconds with events`);
  await killContainer(pod.metadata!.uid);
  await restarted("victim-a");
  await c.deletePod("victim-a", 0);
  assert.ok((await metric("k8shost_agent_evented_pleg_connection_latency_seconds_count")) > 0, "events' latency observed");
});

test("events on: a pod created and deleted runs and goes cleanly", async () => {
  const pod = await startPod(c, { metadata: { name: "brief" }, spec: { terminationGracePeriodSeconds: 1n, containers: [{ name: "b", image: BUSYBOX, command: ["sleep", "3600"] }] } });
  assert.equal((await containersOf(pod.metadata!.uid)).filter(isRunning).length, 1);
  await c.deletePod("brief");
  await waitFor("the pod finalized and its sandbox removed", async () => !(await c.getPod("brief")) && (await sandboxesOf(pod.metadata!.uid)).length === 0, 30_000);
});

test("events cut: the generic 1 s relist is back and still sees an exit; events come back", async () => {
  const errorsBefore = await metric(CONN_ERRORS);
  proxy.cutEvents(status.UNAVAILABLE);
  await waitFor("the agent to see its events drop", async () => (await metric(CONN_ERRORS)) > errorsBefore, 10_000);
  const calls = await listCallsOver(5000);
  assert.ok(calls >= 4, `${calls} ListContainers calls in 5 s without events: the 1 s relist`);
  const pod = await startPod(c, victim("victim-c"));
  await killContainer(pod.metadata!.uid);
  await restarted("victim-c");
  await c.deletePod("victim-c", 0);
  const subscriptions = proxy.subscriptions;
  proxy.allowEvents();
  await waitFor("the agent to resubscribe", async () => proxy.subscriptions > subscriptions && (await metric(CONNECTED)) >= 2, 40_000);
});

test("a runtime without containerd's events (Unimplemented): said once, the generic relist carries on", async () => {
  proxy.cutEvents(status.UNIMPLEMENTED);
  const said = (): number => c.agent.lines().filter((l) => l.msg === "the runtime has no change events; relisting every period").length;
  await waitFor("the agent to say it relists without events", () => said() === 1, 15_000);
  const subscriptions = proxy.subscriptions;
  const pod = await startPod(c, victim("victim-d"));
  await killContainer(pod.metadata!.uid);
  await restarted("victim-d");
  assert.equal(proxy.subscriptions, subscriptions, "never asked again");
  assert.equal(said(), 1);
  await c.deletePod("victim-d", 0);
});
