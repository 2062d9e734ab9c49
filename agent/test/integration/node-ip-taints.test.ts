// node.ip and node.taints on a real node. The agent's node.ip is an address on
// a veth this file adds (not the default route's; no dummy module here): the Node in the
// control plane has it as InternalIP and pods get it as status.hostIP (also
// through the downward API, read inside the container). The node has a
// NoExecute taint: a pod without a toleration is refused as the kubelet
// refuses it (Failed, TaintToleration, nothing in CRI), one with it runs.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetNodeRequest } from "@plasmacloud/proto/k8shost";
import { defaultNodeIP } from "../../src/node/address";
import { BUSYBOX, clusterPerFile, podRunning, waitFor, type Cluster } from "../helpers/cluster";
import { containersOf, execIn, isRunning, sandboxesOf } from "../helpers/cri";

// TEST-NET-2 on a veth pair's end: never the default route's address, never routed anywhere.
const LINK = "pc-nodeip0";
const PEER = "pc-nodeip1";
const NODE_IP = "198.51.100.7";
const ip = (...args: string[]): void => {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  assert.equal(r.status, 0, `ip ${args.join(" ")}: ${r.stderr}`);
};

// At load, not in a hook: the address is there when the agent starts, and if
// it cannot be made the file fails before any cluster is started.
spawnSync("ip", ["link", "del", LINK]); // a previous run's, if it died
ip("link", "add", LINK, "type", "veth", "peer", "name", PEER);
try {
  ip("addr", "add", `${NODE_IP}/32`, "dev", LINK);
  // Both ends up: an interface without carrier is not one the agent (libuv) lists.
  ip("link", "set", PEER, "up");
  ip("link", "set", LINK, "up");
} catch (err) {
  spawnSync("ip", ["link", "del", LINK]);
  throw err;
}

let c: Cluster;
clusterPerFile((started) => (c = started), {
  extraConfig: [
    "node:",
    `  ip: ${NODE_IP}`,
    "  taints:",
    "    - { key: example.com/maintenance, effect: NoExecute }",
    "    - { key: dedicated, value: gpu, effect: NoSchedule }",
  ].join("\n"),
});

after(() => ip("link", "del", LINK));

const SLEEP = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];
const TOLERATE = [{ key: "example.com/maintenance", operator: "Exists", effect: "NoExecute" }];

const node = () => c.user.call("GetNode", c.user.nodes.getNode.bind(c.user.nodes), GetNodeRequest.fromPartial({ name: c.nodeName }));

test("the node registers node.ip as its InternalIP (not the default route's) and node.taints as spec.taints", async () => {
  assert.notEqual(defaultNodeIP(4), NODE_IP, "the default-route address is another one");
  const n = await waitFor("node registered", async () => (await node().catch(() => undefined)) ?? false);
  assert.deepEqual(n.status?.addresses, [{ type: "InternalIP", address: NODE_IP }, { type: "Hostname", address: c.nodeName }]);
  assert.deepEqual(n.spec?.taints, [
    { key: "example.com/maintenance", value: "", effect: "NoExecute", timeAdded: undefined },
    { key: "dedicated", value: "gpu", effect: "NoSchedule", timeAdded: undefined },
  ]);
});

test("a pod that tolerates the NoExecute taint runs, with node.ip as status.hostIP and in the downward API", async () => {
  await c.createPod({
    metadata: { name: "tolerant" },
    spec: {
      tolerations: TOLERATE,
      containers: [{ name: "c", image: BUSYBOX, command: SLEEP, env: [{ name: "HOST_IP", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } }] }],
    },
  });
  const p = await podRunning(c, "tolerant", undefined, 60_000);
  assert.equal(p.status?.hostIp, NODE_IP);
  const ctr = (await containersOf(p.metadata!.uid)).find(isRunning);
  assert.ok(ctr, "the container runs in CRI");
  const r = await execIn(ctr.id, ["sh", "-c", "echo $HOST_IP"]);
  assert.equal(r.stdout.trim(), NODE_IP);
});

test("a pod without a matching toleration is refused as the kubelet refuses it: Failed, TaintToleration, no sandbox", async () => {
  // A toleration of another taint, and one of the right key with the wrong effect, do not help.
  await c.createPod({
    metadata: { name: "intolerant" },
    spec: { restartPolicy: "Always", tolerations: [{ key: "dedicated", operator: "Equal", value: "gpu" }, { key: "example.com/maintenance", operator: "Exists", effect: "NoSchedule" }], containers: [{ name: "c", image: BUSYBOX, command: SLEEP }] },
  });
  const p = await waitFor("intolerant Failed", async () => {
    const x = await c.getPod("intolerant");
    return x?.status?.phase === "Failed" ? x : undefined;
  });
  assert.equal(p.status?.reason, "TaintToleration");
  assert.equal(p.status?.message, "Pod was rejected: Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate");
  assert.deepEqual(p.status?.containerStatuses, [], "no container statuses: nothing of it ever ran");
  assert.deepEqual(await sandboxesOf(p.metadata!.uid), [], "no sandbox for a refused pod");
  assert.deepEqual(await containersOf(p.metadata!.uid), []);
});

test("node.ip not on this host: the agent does not start, naming node.ip", () => {
  const dir = mkdtempSync(join(tmpdir(), "agent-it-nodeip-"));
  try {
    const file = join(dir, "agent.yaml");
    writeFileSync(file, `nodeName: nowhere\ncontrolPlane: { address: "127.0.0.1:1", tokenFile: ${join(dir, "token")} }\nrootDir: ${join(dir, "root")}\nhealthz: { port: 0 }\nnode: { ip: 198.51.100.200 }\n`);
    const repo = new URL("../../../", import.meta.url).pathname;
    const r = spawnSync(process.execPath, ["--import", "tsx", join(repo, "agent/src/main.ts"), "run", "--config", file], { cwd: repo, encoding: "utf8", timeout: 30_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /config field 'node\.ip': 198\.51\.100\.200 is not assigned to any of this host's network interfaces that are up/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
