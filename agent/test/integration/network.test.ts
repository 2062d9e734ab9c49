// Pod networking from NovaNET: addresses from the pod's subnet, reachable for
// real; the tenant's subnet only; a broken attachment is noticed by CHECK and
// the sandbox replaced; attachments of vanished sandboxes are collected at
// start-up. Checked in NovaNET, ip link, the CNI cache and with ping.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { POD_ANNOTATIONS_CAPABILITY, TenantKeys } from "@plasmacloud/proto/annotations";
import { hostVethName } from "../../../cni-plugin/src/plumbing/names";
import { BUSYBOX, OTHER_TENANT_SUBNET, clusterPerFile, waitFor, type Cluster } from "../helpers/cluster";
import { containerPid, containersOf, execIn, sandboxesOf } from "../helpers/cri";

const STACK = process.env.PLASMA_STACK_DIR ?? "/var/lib/plasmacloud-stack";
const CACHE = "/var/lib/cni/results";
const linkExists = (name: string): boolean => spawnSync("ip", ["link", "show", name], { stdio: "ignore" }).status === 0;

let c: Cluster;
clusterPerFile((started) => (c = started), { networkCheckSeconds: 1 });

const running = async (name: string) => {
  const p = await c.getPod(name);
  return p?.status?.phase === "Running" && p.status.podIp ? p : undefined;
};

test("a pod gets its address from its NovaNET subnet, answers ping, and releases the port on delete", async () => {
  const pod = await c.createPod({ metadata: { name: "net1" }, spec: { terminationGracePeriodSeconds: 1n, containers: [{ name: "c", image: BUSYBOX, command: ["sleep", "3600"] }] } });
  const p = await waitFor("net1 Running with an IP", () => running("net1"));
  assert.match(p.status!.podIp, /^10\.77\.0\.\d+$/);
  const [sb] = await sandboxesOf(pod.metadata!.uid);
  const ports = c.novanet.ports().filter((x) => x.deviceId === sb!.id);
  assert.equal(ports.length, 1, "one NovaNET port, owned by the sandbox");
  assert.equal(ports[0]!.ipAddress, p.status!.podIp);
  assert.equal(ports[0]!.orgId, "org-a");
  assert.ok(linkExists(hostVethName(sb!.id, "eth0")), "host veth exists");
  execFileSync("ping", ["-c", "1", "-W", "2", p.status!.podIp]); // the pod answers through its subnet's bridge

  await c.deletePod("net1");
  await waitFor("net1 finalized", async () => !(await c.getPod("net1")), 20_000);
  assert.equal(c.novanet.ports().filter((x) => x.deviceId === sb!.id).length, 0, "port released");
  assert.ok(!linkExists(hostVethName(sb!.id, "eth0")), "host veth removed");
  assert.ok(!existsSync(`${CACHE}/novanet-${sb!.id}-eth0`), "CNI cache entry removed");
});

test("the pod's /etc/hosts is the kubelet's: its address, FQDN and hostname, then hostAliases; bind-mounted from the pod's directory", async () => {
  const pod = await c.createPod({
    metadata: { name: "hosts1" },
    spec: { terminationGracePeriodSeconds: 1n, hostname: "web", subdomain: "grp", hostAliases: [{ ip: "10.1.2.3", hostnames: ["foo.local", "bar"] }], containers: [{ name: "c", image: BUSYBOX, command: ["sleep", "3600"] }] },
  });
  const p = await waitFor("hosts1 Running with an IP", () => running("hosts1"));
  const ip = p.status!.podIp;
  const want = `# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n${ip}\tweb.grp.default.svc.cluster.local\tweb\n\n# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar\n`;
  const file = join(c.rootDir, "pods", pod.metadata!.uid, "etc-hosts");
  assert.equal(readFileSync(file, "utf8"), want, "the file in the pod's directory on the host");
  const [ctr] = await containersOf(pod.metadata!.uid);
  // From the host: the container's mount table has the file bind-mounted at /etc/hosts.
  const mount = readFileSync(`/proc/${await containerPid(ctr!.id)}/mountinfo`, "utf8").split("\n").map((l) => l.split(" ")).find((f) => f[4] === "/etc/hosts");
  assert.ok(mount?.[3]?.endsWith(`/pods/${pod.metadata!.uid}/etc-hosts`), `/etc/hosts mounted from the pod's file, got ${mount?.join(" ")}`);
  assert.equal((await execIn(ctr!.id, ["cat", "/etc/hosts"])).stdout, want);
  assert.equal((await execIn(ctr!.id, ["hostname"])).stdout.trim(), "web");
  await c.deletePod("hosts1");
  await waitFor("hosts1 gone with its directory", async () => !(await c.getPod("hosts1")) && !existsSync(file));
});

test("a pod naming another tenant's subnet gets no sandbox and a clear reason", async () => {
  const pod = await c.createPod({
    metadata: { name: "wrongnet", annotations: { [TenantKeys.subnetId]: OTHER_TENANT_SUBNET } },
    spec: { containers: [{ name: "c", image: BUSYBOX, command: ["sleep", "3600"] }] },
  });
  const p = await waitFor("FailedCreatePodSandBox", async () => {
    const x = await c.getPod("wrongnet");
    return x?.status?.reason === "FailedCreatePodSandBox" ? x : undefined;
  });
  assert.match(p.status!.message, /subnet|not found/i);
  assert.equal(p.status!.phase, "Pending");
  assert.equal((await sandboxesOf(pod.metadata!.uid)).length, 0, "containerd cleaned up the failed sandbox");
  assert.equal(c.novanet.ports().filter((x) => x.subnetId === OTHER_TENANT_SUBNET).length, 0, "no port in the other tenant's subnet");
  await c.deletePod("wrongnet", 0);
});

test("CHECK notices a broken attachment and the sandbox is replaced", async () => {
  const pod = await c.createPod({ metadata: { name: "heal" }, spec: { terminationGracePeriodSeconds: 1n, containers: [{ name: "c", image: BUSYBOX, command: ["sleep", "3600"] }] } });
  await waitFor("heal Running", () => running("heal"));
  const [old] = await sandboxesOf(pod.metadata!.uid);
  execFileSync("ip", ["link", "del", hostVethName(old!.id, "eth0")]); // cut the pod off its network
  const healed = await waitFor(
    "a new sandbox with a working network",
    async () => {
      const sbs = await sandboxesOf(pod.metadata!.uid);
      const p = await running("heal");
      return sbs.length === 1 && sbs[0]!.id !== old!.id && p ? p : undefined;
    },
    40_000,
  );
  execFileSync("ping", ["-c", "1", "-W", "2", healed.status!.podIp]);
  assert.equal(c.novanet.ports().filter((x) => x.deviceId === old!.id).length, 0, "the broken attachment's port is released");
  await c.deletePod("heal", 0);
});

test("at start-up the agent collects attachments whose sandbox is gone", async () => {
  // An attachment made by the plugin for a sandbox that no longer exists.
  const ns = `gc-${randomBytes(3).toString("hex")}`;
  const fakeId = randomBytes(32).toString("hex");
  execFileSync("ip", ["netns", "add", ns]);
  try {
    const conflist = JSON.parse(readFileSync(`${STACK}/cni/net.d/10-novanet.conflist`, "utf8")) as { name: string; plugins: Record<string, unknown>[] };
    const conf = { ...conflist.plugins[0], cniVersion: "1.0.0", name: conflist.name, runtimeConfig: { [POD_ANNOTATIONS_CAPABILITY]: { [TenantKeys.orgId]: "org-a", [TenantKeys.projectId]: "proj-a", [TenantKeys.subnetId]: "agent-it" } } };
    // Async: the NovaNET stand-in answering the plugin lives in this process.
    const add = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(`${STACK}/cni/bin/novanet`, [], {
        env: { PATH: process.env.PATH, CNI_COMMAND: "ADD", CNI_CONTAINERID: fakeId, CNI_NETNS: `/var/run/netns/${ns}`, CNI_IFNAME: "eth0", CNI_PATH: `${STACK}/cni/bin` },
      });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.on("close", (code) => resolve({ code, out }));
      child.stdin.end(JSON.stringify(conf));
    });
    assert.equal(add.code, 0, `novanet ADD: ${add.out}`);
    assert.equal(c.novanet.ports().filter((x) => x.deviceId === fakeId).length, 1);
    await c.agent.kill("SIGKILL");
    c.agent.start();
    await waitFor("stale attachment collected", () => c.novanet.ports().every((x) => x.deviceId !== fakeId), 30_000);
    assert.ok(!linkExists(hostVethName(fakeId, "eth0")), "its host veth is gone");
    assert.ok(!existsSync(`${CACHE}/novanet-${fakeId}-eth0`), "its cache entry is gone");
  } finally {
    spawnSync("ip", ["netns", "del", ns]);
  }
});

test("a replaced sandbox: its running container gets its preStop, and the restart count, last state and log files go on", async () => {
  const pod = await c.createPod({
    metadata: { name: "carry" },
    spec: {
      terminationGracePeriodSeconds: 5n,
      containers: [{
        name: "c", image: BUSYBOX, command: ["sh", "-c", "echo run >> /data/runs; exec sleep 3600"],
        volumeMounts: [{ name: "data", mountPath: "/data" }],
        lifecycle: { preStop: { exec: { command: ["sh", "-c", "echo prestop >> /data/runs"] } } },
      }],
      volumes: [{ name: "data", emptyDir: {} }],
    },
  });
  const uid = pod.metadata!.uid;
  await waitFor("carry Running", () => running("carry"));
  const [old] = await sandboxesOf(uid);
  const [oldCtr] = await containersOf(uid);
  execFileSync("ip", ["link", "del", hostVethName(old!.id, "eth0")]);
  let seen = "";
  const healed = await waitFor("carry Running in a new sandbox, restart count 1", async () => {
    const sbs = await sandboxesOf(uid);
    const p = await running("carry");
    const st = p?.status?.containerStatuses[0];
    seen = JSON.stringify({ sandboxes: sbs.map((s) => s.id !== old!.id), status: st });
    return sbs.length === 1 && sbs[0]!.id !== old!.id && st?.state?.running && st.restartCount === 1 ? p : undefined;
  }, 40_000).catch((err: Error) => assert.fail(`${err.message}; last seen ${seen}`));
  const id = healed.status!.containerStatuses[0]!.containerId.replace(/^containerd:\/\//, "");
  const runs = await execIn(id, ["cat", "/data/runs"]);
  assert.equal(runs.stdout, "run\nprestop\nrun\n", "preStop ran in the old container before the new one started");
  const [dir] = readdirSync(join(c.dir, "logs")).filter((d) => d.endsWith(`_${uid}`));
  assert.deepEqual(readdirSync(join(c.dir, "logs", dir!, "c")).sort(), ["0.log", "1.log"], "the new container's log is 1.log; 0.log is kept");
  // The old container went with its sandbox; its end is still the last state.
  const last = healed.status!.containerStatuses[0]!.lastState?.terminated;
  assert.equal(last?.containerId, `containerd://${oldCtr!.id}`, JSON.stringify(healed.status!.containerStatuses[0]));
  assert.ok(last.finishedAt && last.startedAt && last.finishedAt >= last.startedAt, "with its start and finish times");
  assert.ok(!(await containersOf(uid)).some((x) => x.id === oldCtr!.id), "the old container itself is gone");
  await c.deletePod("carry", 0);
});
