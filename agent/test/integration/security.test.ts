// Security contexts on a real node, checked from outside the agent: the
// container's /proc/1/status (through CRI ExecSync), the volume directories
// on the node, and CRI's lists of sandboxes and containers for refused pods.
// This node allows NET_BIND_SERVICE and nothing else beyond the defaults.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CreateConfigMapRequest, type Pod } from "@plasmacloud/proto/k8shost";
import { BUSYBOX, clusterPerFile, podRunning, waitFor, type Cluster, type PodInput } from "../helpers/cluster";
import { containersOf, execIn, isRunning, sandboxesOf } from "../helpers/cri";

let c: Cluster;
clusterPerFile((started) => (c = started), { extraConfig: `security: { allowedCapabilities: [NET_BIND_SERVICE] }` });

const SLEEP = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];

const allReady = (p: Pod): boolean => p.status!.containerStatuses.every((s) => s.ready);
const running = (name: string): Promise<Pod> => podRunning(c, name, allReady, 60_000);

async function gone(name: string): Promise<void> {
  await c.deletePod(name, 0);
  await waitFor(`pod ${name} finalized`, async () => (await c.getPod(name)) === undefined, 30_000);
}

/** The fields of the container's /proc/1/status, read inside it. */
async function procStatus(uid: string, container = "c"): Promise<Record<string, string>> {
  const ctr = (await containersOf(uid)).find((x) => x.metadata?.name === container && isRunning(x));
  assert.ok(ctr, `container ${container} running`);
  const r = await execIn(ctr.id, ["cat", "/proc/1/status"]);
  assert.equal(r.exitCode, 0, r.stderr);
  return Object.fromEntries(r.stdout.split("\n").filter((l) => l.includes(":")).map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()]));
}

async function execOut(uid: string, cmd: string[], container = "c"): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const ctr = (await containersOf(uid)).find((x) => x.metadata?.name === container && isRunning(x));
  assert.ok(ctr, `container ${container} running`);
  return execIn(ctr.id, cmd);
}

/** The pod's status once a container waits with `reason`. */
async function waitingWith(name: string, reason: string): Promise<Pod> {
  return waitFor(`${name}: a container waiting with ${reason}`, async () => {
    const p = await c.getPod(name);
    return p?.status?.containerStatuses.some((s) => s.state?.waiting?.reason === reason) ? p : undefined;
  }, 30_000);
}

test("runAsUser 1000, runAsGroup 3000, fsGroup 2000: the process's ids and groups, an emptyDir and a configMap owned by the group", async () => {
  await c.user.call("CreateConfigMap", c.user.configMaps.createConfigMap.bind(c.user.configMaps), CreateConfigMapRequest.fromPartial({ configMap: { metadata: { name: "sec-cm", namespace: "default" }, data: { key: "only-the-group-may-read\n" } } }));
  const pod: PodInput = {
    metadata: { name: "ids" },
    spec: {
      securityContext: { runAsUser: 1000n, runAsGroup: 3000n, fsGroup: 2000n, supplementalGroups: [4000n], runAsNonRoot: true },
      containers: [{ name: "c", image: BUSYBOX, command: SLEEP, volumeMounts: [{ name: "data", mountPath: "/data" }, { name: "cfg", mountPath: "/cfg" }] }],
      // 0400: without fsGroup only root could read it.
      volumes: [{ name: "data", emptyDir: {} }, { name: "cfg", configMap: { name: "sec-cm", defaultMode: 0o400 } }],
    },
  };
  const created = await c.createPod(pod);
  const uid = created.metadata!.uid;
  await running("ids");
  const st = await procStatus(uid);
  assert.deepEqual(st.Uid?.split(/\s+/), ["1000", "1000", "1000", "1000"]);
  assert.deepEqual(st.Gid?.split(/\s+/), ["3000", "3000", "3000", "3000"]);
  const groups = (st.Groups ?? "").split(/\s+/);
  assert.ok(groups.includes("2000"), `fsGroup in Groups: ${st.Groups}`);
  assert.ok(groups.includes("4000"), `supplementalGroups in Groups: ${st.Groups}`);

  // From the node: the emptyDir is group-owned by fsGroup, setgid, writable by the group.
  const dir = join(c.rootDir, "pods", uid, "volumes", "kubernetes.io~empty-dir", "data");
  const ds = statSync(dir);
  assert.equal(ds.gid, 2000, "emptyDir group");
  assert.equal(ds.mode & 0o2000, 0o2000, "emptyDir setgid");
  // What the pod writes there belongs to fsGroup too (setgid), not to its primary group 3000.
  const w = await execOut(uid, ["sh", "-c", "echo x > /data/f && stat -c %g /data/f"]);
  assert.equal(w.exitCode, 0, w.stderr);
  assert.equal(w.stdout.trim(), "2000");
  assert.equal(statSync(join(dir, "f")).gid, 2000);

  // The configMap's 0400 file is group-readable by fsGroup: user 1000 reads it through its group.
  const cfgDir = join(c.rootDir, "pods", uid, "volumes", "kubernetes.io~configmap", "cfg");
  const file = statSync(join(cfgDir, "key"));
  assert.equal(file.gid, 2000);
  assert.equal(file.mode & 0o777, 0o440);
  const r = await execOut(uid, ["cat", "/cfg/key"]);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout, "only-the-group-may-read\n");
  await gone("ids");
});

test("capabilities drop ALL + add NET_BIND_SERVICE (allowed here): CapEff and CapBnd hold only that capability", async () => {
  const created = await c.createPod({
    metadata: { name: "caps" },
    spec: { containers: [{ name: "c", image: BUSYBOX, command: SLEEP, securityContext: { capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } } }] },
  });
  await running("caps");
  const st = await procStatus(created.metadata!.uid);
  const netBindService = (1n << 10n).toString(16).padStart(16, "0");
  assert.equal(st.CapEff, netBindService);
  assert.equal(st.CapBnd, netBindService);
  assert.equal(st.CapPrm, netBindService);
  await gone("caps");
});

test("a capability the node does not allow is refused with the rule's name: no sandbox, no container, no volume", async () => {
  const created = await c.createPod({
    metadata: { name: "netadmin" },
    spec: {
      containers: [{ name: "c", image: BUSYBOX, command: SLEEP, securityContext: { capabilities: { add: ["NET_ADMIN"] } }, volumeMounts: [{ name: "d", mountPath: "/d" }] }],
      volumes: [{ name: "d", emptyDir: {} }],
    },
  });
  const uid = created.metadata!.uid;
  const p = await waitingWith("netadmin", "CreateContainerConfigError");
  const msg = p.status!.containerStatuses[0]!.state!.waiting!.message;
  assert.equal(msg, "spec.containers[0].securityContext.capabilities.add[0]: capability NET_ADMIN is not allowed on this node (security.allowedCapabilities)");
  assert.equal(p.status!.phase, "Pending");
  assert.equal(p.status!.reason, "CreateContainerConfigError");
  assert.equal((await sandboxesOf(uid)).length, 0, "no sandbox");
  assert.equal((await containersOf(uid)).length, 0, "no container");
  assert.ok(!existsSync(join(c.rootDir, "pods", uid)), "no volume directory");
  await gone("netadmin");
});

test("privileged is refused by default, naming the rule; so are host namespaces", async () => {
  const priv = await c.createPod({ metadata: { name: "priv" }, spec: { containers: [{ name: "c", image: BUSYBOX, command: SLEEP, securityContext: { privileged: true } }] } });
  const p = await waitingWith("priv", "CreateContainerConfigError");
  assert.equal(p.status!.containerStatuses[0]!.state!.waiting!.message, "spec.containers[0].securityContext.privileged: privileged containers are not allowed on this node (security.allowPrivileged)");
  assert.equal((await sandboxesOf(priv.metadata!.uid)).length, 0, "no sandbox");
  assert.equal((await containersOf(priv.metadata!.uid)).length, 0, "no container");

  const host = await c.createPod({ metadata: { name: "hostnet" }, spec: { hostNetwork: true, containers: [{ name: "c", image: BUSYBOX, command: SLEEP }] } });
  const h = await waitFor("hostnet refused", async () => {
    const x = await c.getPod("hostnet");
    return x?.status?.reason === "CreatePodSandboxError" ? x : undefined;
  });
  assert.equal(h.status!.message, "spec.hostNetwork: host namespaces are not allowed on this node (security.allowHostNamespaces)");
  assert.equal((await sandboxesOf(host.metadata!.uid)).length, 0, "no sandbox");
  await gone("priv");
  await gone("hostnet");
});

test("readOnlyRootFilesystem, allowPrivilegeEscalation false, the pod's seccomp profile, a lone runAsGroup, default masked paths", async () => {
  const created = await c.createPod({
    metadata: { name: "locked" },
    spec: {
      securityContext: { seccompProfile: { type: "RuntimeDefault" } },
      containers: [{ name: "c", image: BUSYBOX, command: SLEEP, securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsGroup: 4000n } }],
    },
  });
  const uid = created.metadata!.uid;
  await running("locked");
  const w = await execOut(uid, ["touch", "/probe"]);
  assert.notEqual(w.exitCode, 0, "a write to / fails");
  assert.match(w.stderr, /Read-only file system/);
  const st = await procStatus(uid);
  assert.equal(st.NoNewPrivs, "1");
  assert.equal(st.Seccomp, "2", "the pod's RuntimeDefault profile reaches the container (filter mode)");
  // runAsGroup alone: the image's user (root) with the group.
  assert.equal(st.Uid?.split(/\s+/)[0], "0");
  assert.equal(st.Gid?.split(/\s+/)[0], "4000");
  const mounts = await execOut(uid, ["cat", "/proc/1/mountinfo"]);
  const points = mounts.stdout.split("\n").map((l) => l.split(" "));
  // runc masks what exists: /proc/keys here (this kernel has no /proc/kcore), /sys/firmware.
  assert.ok(points.some((f) => f[4] === "/proc/keys"), "/proc/keys masked");
  assert.ok(points.some((f) => f[4] === "/sys/firmware"), "/sys/firmware masked");
  assert.ok(points.some((f) => f[4] === "/proc/sys" && f[5]?.split(",").includes("ro")), "/proc/sys read-only");
  await gone("locked");
});

test("a Localhost seccomp profile from the node's profile root (<rootDir>/seccomp) is applied", async () => {
  mkdirSync(join(c.rootDir, "seccomp", "profiles"), { recursive: true });
  const profile = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO" }] };
  writeFileSync(join(c.rootDir, "seccomp", "profiles", "no-mkdir.json"), JSON.stringify(profile));
  const created = await c.createPod({
    metadata: { name: "seccomp" },
    spec: { containers: [{ name: "c", image: BUSYBOX, command: SLEEP, securityContext: { seccompProfile: { type: "Localhost", localhostProfile: "profiles/no-mkdir.json" } } }] },
  });
  const uid = created.metadata!.uid;
  await running("seccomp");
  assert.equal((await procStatus(uid)).Seccomp, "2");
  const r = await execOut(uid, ["mkdir", "/tmp/denied"]);
  assert.notEqual(r.exitCode, 0, "mkdir is refused by the profile");
  assert.match(r.stderr, /Operation not permitted/);
  assert.equal((await execOut(uid, ["touch", "/tmp/allowed"])).exitCode, 0, "what the profile allows still works");
  await gone("seccomp");
});

test("runAsNonRoot with an image that runs as root: CreateContainerConfigError with the reason, no container created", async () => {
  const created = await c.createPod({
    metadata: { name: "nonroot" },
    spec: { securityContext: { runAsNonRoot: true }, containers: [{ name: "c", image: BUSYBOX, command: SLEEP }] },
  });
  const uid = created.metadata!.uid;
  const p = await waitingWith("nonroot", "CreateContainerConfigError");
  const msg = p.status!.containerStatuses[0]!.state!.waiting!.message;
  assert.match(msg, /^container has runAsNonRoot and image will run as root \(pod: "nonroot_default\(.+\)", container: c\)$/);
  assert.equal(p.status!.phase, "Pending");
  assert.equal((await containersOf(uid)).length, 0, "no container");
  await gone("nonroot");
});
