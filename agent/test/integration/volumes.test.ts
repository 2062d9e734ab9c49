// Pod volumes on a real node: LightningStor volumes through the real
// lightningstor-csi driver (loop devices, ext4), configMap/secret projections,
// emptyDir, hostPath; checked from outside the agent (mountinfo, losetup,
// files, container logs, CRI).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigMap, CreateConfigMapRequest, CreatePodRequest, CreateSecretRequest, Pod } from "@plasmacloud/proto/k8shost";
import { ControlPlane } from "../../src/controlplane/client";
import { BUSYBOX, podRunning, startCluster, waitFor, type Cluster, type PodInput } from "../helpers/cluster";
import { containersOf, isRunning, purgeNode } from "../helpers/cri";
import { CSI_DRIVER, loopsUnder, mountsUnder } from "../helpers/storage";

const MiB = 1n << 20n;
let c: Cluster;
let other: ControlPlane; // a user of tenant org-b/proj-b
// hostPath volumes are allowed below this prefix only.
const hostRoot = mkdtempSync(join(tmpdir(), "agent-it-hostpath-"));
before(async () => {
  c = await startCluster({ storage: true, extraConfig: `volumes: { hostPathPrefixes: ["${hostRoot}/allowed"], csiTimeoutSeconds: 30 }` });
  c.tokens.add("user-b-token", { name: "user:bob", kind: "user", orgId: "org-b", projectId: "proj-b" });
  writeFileSync(join(c.dir, "user-b.token"), "user-b-token\n", { mode: 0o600 });
  other = new ControlPlane(c.cp.address, join(c.dir, "user-b.token"), "", 5000);
  await waitFor("CSI driver registered with the agent", () => c.agent.output.includes("CSI driver registered"), 30_000);
});
after(async () => {
  other?.close();
  await c.close();
  await purgeNode(c.nodeName);
  rmSync(hostRoot, { recursive: true, force: true });
});

const TRAP = "trap 'exit 0' TERM;";
const stagingRoot = (): string => join(c.rootDir, "plugins", "kubernetes.io", "csi", CSI_DRIVER);
const podDir = (uid: string): string => join(c.rootDir, "pods", uid);

const allReady = (p: Pod): boolean => p.status!.containerStatuses.every((s) => s.ready);
const running = (name: string): Promise<Pod> => podRunning(c, name, allReady, 60_000);

async function gone(name: string): Promise<void> {
  await c.deletePod(name);
  await waitFor(`pod ${name} finalized`, async () => (await c.getPod(name)) === undefined, 30_000);
}

/** The container's log as written by containerd (CRI log lines, message part only). */
function logOf(pod: Pod, container: string): string {
  const m = pod.metadata!;
  const dir = join(c.dir, "logs", `${m.namespace}_${m.name}_${m.uid}`, container);
  if (!existsSync(dir)) return "";
  return readdirSync(dir).map((f) => readFileSync(join(dir, f), "utf8")).join("").split("\n").map((l) => l.split(" ").slice(3).join(" ")).join("\n");
}

function csiPod(name: string, volumeHandle: string, script: string, opts: { readOnlyMount?: boolean } = {}): PodInput {
  return {
    metadata: { name },
    spec: {
      terminationGracePeriodSeconds: 2n,
      containers: [{ name: "c", image: BUSYBOX, command: ["sh", "-c", `${TRAP} ${script}; while true; do sleep 1; done`], volumeMounts: [{ name: "data", mountPath: "/data", readOnly: opts.readOnlyMount ?? false }] }],
      volumes: [{ name: "data", csi: { driver: CSI_DRIVER, volumeHandle, fsType: "ext4" } }],
    },
  };
}

test("a pod writes into its LightningStor volume; deleted and created again, the file is there", async () => {
  const vol = await c.storage!.createVolume("data-1", 64n * MiB, "user-token");
  const first = await c.createPod(csiPod("writer", vol.id, "echo kept-across-pods > /data/hello.txt && echo WROTE"));
  const p1 = await running("writer");
  await waitFor("the write reported", () => logOf(p1, "c").includes("WROTE"));
  const target = join(podDir(first.metadata!.uid), "volumes", "kubernetes.io~csi", "data", "mount");
  const mounts = mountsUnder(c.dir);
  const staged = mounts.filter((m) => m.mountPoint.startsWith(stagingRoot()));
  assert.equal(staged.length, 1, "one staging mount");
  assert.equal(staged[0]!.fsType, "ext4");
  assert.ok(mounts.some((m) => m.mountPoint === target && m.source === staged[0]!.source), "published from the staged device");
  assert.equal(readFileSync(join(target, "hello.txt"), "utf8"), "kept-across-pods\n");
  assert.equal(loopsUnder(c.dir).length, 1);

  await gone("writer");
  assert.deepEqual(mountsUnder(c.dir), [], "no mount left after the last pod");
  assert.deepEqual(loopsUnder(c.dir), [], "no loop device left");
  assert.ok(!existsSync(podDir(first.metadata!.uid)), "pod directory removed");

  await c.createPod(csiPod("reader", vol.id, "cat /data/hello.txt"));
  const p2 = await running("reader");
  await waitFor("the file read back in the new pod", () => logOf(p2, "c").includes("kept-across-pods"));
  await gone("reader");
  assert.deepEqual(mountsUnder(c.dir), []);
  assert.deepEqual(loopsUnder(c.dir), []);
});

test("two pods share one staged volume (one stage, two publishes); unstaged only after the last; a read-only mount refuses writes", async () => {
  const vol = await c.storage!.createVolume("shared", 64n * MiB, "user-token");
  const attachesBefore = c.storage!.lightningstor.calls().AttachVolume ?? 0;
  const a = await c.createPod(csiPod("share-a", vol.id, "echo from-a > /data/a.txt"));
  const b = await c.createPod(csiPod("share-b", vol.id, "touch /data/b.txt 2>/dev/null && echo WRITE-OK || echo WRITE-REFUSED", { readOnlyMount: true }));
  const pa = await running("share-a");
  const pb = await running("share-b");
  await waitFor("b reported its write attempt", () => /WRITE-(OK|REFUSED)/.test(logOf(pb, "c")));
  assert.match(logOf(pb, "c"), /WRITE-REFUSED/, "the read-only mount refused the write");
  assert.ok(!logOf(pb, "c").includes("WRITE-OK"));

  const mounts = mountsUnder(c.dir);
  const staged = mounts.filter((m) => m.mountPoint.startsWith(stagingRoot()));
  assert.equal(staged.length, 1, "one stage");
  const targets = [a, b].map((p) => join(podDir(p.metadata!.uid), "volumes", "kubernetes.io~csi", "data", "mount"));
  const published = targets.map((t) => mounts.find((m) => m.mountPoint === t));
  assert.ok(published.every((m) => m?.source === staged[0]!.source), "two publishes of the one staged device");
  assert.ok(published[0]!.options.includes("rw"));
  assert.equal(loopsUnder(c.dir).length, 1, "one loop device");
  assert.equal((c.storage!.lightningstor.calls().AttachVolume ?? 0) - attachesBefore, 1, "attached once");
  void pa;

  await gone("share-a");
  const after1 = mountsUnder(c.dir);
  assert.ok(!after1.some((m) => m.mountPoint === targets[0]), "a's publish gone");
  assert.ok(after1.some((m) => m.mountPoint === targets[1]), "b's publish kept");
  assert.equal(after1.filter((m) => m.mountPoint.startsWith(stagingRoot())).length, 1, "still staged for b");
  assert.ok((await containersOf(b.metadata!.uid)).length > 0);

  await gone("share-b");
  assert.deepEqual(mountsUnder(c.dir), [], "unstaged after the last pod");
  assert.deepEqual(loopsUnder(c.dir), []);
  assert.deepEqual(readdirSync(stagingRoot()), [], "staging directories removed");
});

async function createConfigMap(name: string, data: Record<string, string>): Promise<void> {
  await c.user.call("CreateConfigMap", c.user.configMaps.createConfigMap.bind(c.user.configMaps), CreateConfigMapRequest.fromPartial({ configMap: { metadata: { name, namespace: "default" }, data } }));
}

async function createSecret(name: string, data: Record<string, string>): Promise<void> {
  const bytes = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v)]));
  await c.user.call("CreateSecret", c.user.secrets.createSecret.bind(c.user.secrets), CreateSecretRequest.fromPartial({ secret: { metadata: { name, namespace: "default" }, type: "Opaque", data: bytes } }));
}

const volDir = (uid: string, plugin: string, name: string): string => join(podDir(uid), "volumes", plugin, name);

test("configMap and secret volumes: contents, items/modes, the ..data layout, atomic update, secret on tmpfs, read-only", async () => {
  await createConfigMap("app-config", { "a.conf": "alpha\n", "b.conf": "beta\n" });
  await createSecret("app-secret", { token: "not-a-real-token\n" });
  const script = [
    "cat /cfg/conf/a.conf /sec/token",
    "touch /sec/x 2>/dev/null && echo SEC-WRITE-OK || echo SEC-WRITE-REFUSED",
    "touch /all/x 2>/dev/null && echo CFG-WRITE-OK || echo CFG-WRITE-REFUSED",
    "echo DONE",
  ].join("; ");
  const created = await c.createPod({
    metadata: { name: "projected" },
    spec: {
      terminationGracePeriodSeconds: 2n,
      containers: [{ name: "c", image: BUSYBOX, command: ["sh", "-c", `${TRAP} ${script}; while true; do sleep 1; done`], volumeMounts: [
        { name: "cfg", mountPath: "/cfg" },
        { name: "all", mountPath: "/all" },
        { name: "sec", mountPath: "/sec" },
      ] }],
      volumes: [
        { name: "cfg", configMap: { name: "app-config", items: [{ key: "a.conf", path: "conf/a.conf", mode: 0o600 }] } },
        { name: "all", configMap: { name: "app-config", defaultMode: 0o640 } },
        { name: "sec", secret: { secretName: "app-secret", defaultMode: 0o400 } },
      ],
    },
  });
  const uid = created.metadata!.uid;
  const pod = await running("projected");
  await waitFor("container finished its checks", () => logOf(pod, "c").includes("DONE"));
  const log = logOf(pod, "c");
  assert.match(log, /alpha/);
  assert.match(log, /not-a-real-token/);
  assert.match(log, /SEC-WRITE-REFUSED/, "secret volume is read-only in the container");
  assert.match(log, /CFG-WRITE-REFUSED/, "configMap volume is read-only in the container");

  // Layout on the host: ..data -> timestamped dir; user-visible names are symlinks through ..data.
  const all = volDir(uid, "kubernetes.io~configmap", "all");
  const ts = readlinkSync(join(all, "..data"));
  assert.match(ts, /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\./);
  assert.equal(readlinkSync(join(all, "a.conf")), "..data/a.conf");
  assert.equal(statSync(join(all, ts, "b.conf")).mode & 0o777, 0o640);
  const cfg = volDir(uid, "kubernetes.io~configmap", "cfg");
  assert.equal(readlinkSync(join(cfg, "conf")), "..data/conf");
  assert.ok(!existsSync(join(cfg, "b.conf")), "items select keys");
  assert.equal(statSync(join(cfg, "conf", "a.conf")).mode & 0o777, 0o600);
  const sec = volDir(uid, "kubernetes.io~secret", "sec");
  assert.equal(mountsUnder(sec).find((m) => m.mountPoint === sec)?.fsType, "tmpfs", "secret on tmpfs");
  assert.ok(!mountsUnder(all).some((m) => m.mountPoint === all), "configMap is not a mount");
  assert.equal(statSync(join(sec, "token")).mode & 0o777, 0o400);

  // Update: a new timestamped dir swapped in through ..data, the old one removed, names unchanged.
  const cm = c.store.configMaps.get("org-a/proj-a/default/app-config")!;
  c.store.configMaps.set("org-a/proj-a/default/app-config", ConfigMap.fromPartial({ ...cm, data: { "a.conf": "alpha-2\n", "c.conf": "gamma\n" } }));
  await waitFor("updated contents projected", () => existsSync(join(all, "c.conf")) && readFileSync(join(all, "a.conf"), "utf8") === "alpha-2\n", 60_000, 500);
  const ts2 = readlinkSync(join(all, "..data"));
  assert.notEqual(ts2, ts);
  assert.ok(!existsSync(join(all, ts)), "old payload directory removed");
  assert.ok(!existsSync(join(all, "b.conf")), "removed key's symlink removed");
  assert.deepEqual(readdirSync(all).sort(), ["..data", ts2, "a.conf", "c.conf"].sort());

  await gone("projected");
  assert.deepEqual(mountsUnder(podDir(uid)), [], "secret tmpfs unmounted");
  assert.ok(!existsSync(podDir(uid)));
});

test("hostPath outside the allowed prefixes (directly or through a symlink) is refused with a clear reason; inside works", async () => {
  mkdirSync(join(hostRoot, "allowed"), { recursive: true });
  symlinkSync("/etc", join(hostRoot, "allowed", "escape"));
  const hp = (name: string, path: string, type = ""): PodInput => ({
    metadata: { name },
    spec: {
      terminationGracePeriodSeconds: 2n,
      containers: [{ name: "c", image: BUSYBOX, command: ["sh", "-c", `${TRAP} echo hi > /h/from-pod; while true; do sleep 1; done`], volumeMounts: [{ name: "h", mountPath: "/h" }] }],
      volumes: [{ name: "h", hostPath: { path, type } }],
    },
  });
  await c.createPod(hp("hp-etc", "/etc"));
  await c.createPod(hp("hp-link", join(hostRoot, "allowed", "escape")));
  await c.createPod(hp("hp-dotdot", `${hostRoot}/allowed/../x`));
  for (const [name, why] of [["hp-etc", /not under an allowed prefix/], ["hp-link", /resolves to '\/etc', outside the allowed prefixes/], ["hp-dotdot", /must not contain '\.\.'/]] as const) {
    const p = await waitFor(`${name} refused`, async () => {
      const x = await c.getPod(name);
      return x?.status?.phase === "Failed" ? x : undefined;
    });
    assert.equal(p.status!.reason, "InvalidPodSpec");
    assert.match(p.status!.message, why);
    assert.equal((await containersOf(p.metadata!.uid)).length, 0, "no container started");
  }
  await c.createPod(hp("hp-ok", join(hostRoot, "allowed", "made", "here"), "DirectoryOrCreate"));
  await running("hp-ok");
  await waitFor("pod wrote into the host directory", () => existsSync(join(hostRoot, "allowed", "made", "here", "from-pod")));
  for (const n of ["hp-etc", "hp-link", "hp-dotdot", "hp-ok"]) await gone(n);
  assert.ok(existsSync(join(hostRoot, "allowed", "made", "here", "from-pod")), "hostPath contents are the host's: kept");
});

test("emptyDir medium Memory is a tmpfs of sizeLimit, unmounted at teardown; subPath is created inside the volume", async () => {
  const created = await c.createPod({
    metadata: { name: "mem" },
    spec: {
      terminationGracePeriodSeconds: 2n,
      containers: [{ name: "c", image: BUSYBOX, command: ["sh", "-c", `${TRAP} echo x > /scratch/f && echo y > /sub/g && echo OK; while true; do sleep 1; done`], volumeMounts: [
        { name: "m", mountPath: "/scratch" },
        { name: "m", mountPath: "/sub", subPath: "nested/dir" },
      ] }],
      volumes: [{ name: "m", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } }],
    },
  });
  const uid = created.metadata!.uid;
  const pod = await running("mem");
  await waitFor("writes done", () => logOf(pod, "c").includes("OK"));
  const dir = volDir(uid, "kubernetes.io~empty-dir", "m");
  const m = mountsUnder(dir).find((x) => x.mountPoint === dir);
  assert.equal(m?.fsType, "tmpfs");
  assert.ok(readFileSync("/proc/self/mountinfo", "utf8").split("\n").some((l) => l.includes(` ${dir} `) && l.includes("size=16384k")), "size=16Mi");
  assert.equal(readFileSync(join(dir, "nested", "dir", "g"), "utf8"), "y\n", "subPath inside the volume");
  assert.equal(readFileSync(join(dir, "f"), "utf8"), "x\n");
  await gone("mem");
  assert.deepEqual(mountsUnder(podDir(uid)), []);
  assert.ok(!existsSync(podDir(uid)));
});

test("another tenant's secret, configMap or LightningStor volume is not given to a pod; the status says why", async () => {
  const vol = await c.storage!.createVolume("org-a-private", 32n * MiB, "user-token");
  const attachesBefore = c.storage!.lightningstor.calls().AttachVolume ?? 0;
  const mk = (name: string, v: Record<string, unknown>): Promise<Pod> =>
    other.call("CreatePod", other.pods.createPod.bind(other.pods), CreatePodRequest.fromPartial({
      pod: Pod.fromPartial({
        metadata: { name, namespace: "default" },
        spec: { nodeName: c.nodeName, terminationGracePeriodSeconds: 2n, containers: [{ name: "c", image: BUSYBOX, command: ["sleep", "3600"], volumeMounts: [{ name: "v", mountPath: "/v" }] }], volumes: [{ name: "v", ...v } as never] },
      }),
    }));
  // org-a holds these names; org-b's pods ask for the same names.
  await createSecret("only-in-a", { k: "v" });
  await createConfigMap("config-of-a", { k: "v" });
  const pods = [
    await mk("steal-secret", { secret: { secretName: "only-in-a" } }),
    await mk("steal-config", { configMap: { name: "config-of-a" } }),
    await mk("steal-volume", { csi: { driver: CSI_DRIVER, volumeHandle: vol.id } }),
  ];
  const why: Record<string, RegExp> = {
    "steal-secret": /secret "only-in-a" not found/,
    "steal-config": /configmap "config-of-a" not found/,
    "steal-volume": /not found/i,
  };
  for (const p of pods) {
    const name = p.metadata!.name;
    const st = await waitFor(`${name} reports FailedMount`, async () => {
      const x = await other.call("GetPod", other.pods.getPod.bind(other.pods), { ref: { orgId: "", projectId: "", namespace: "default", name } });
      return x.status?.reason === "FailedMount" ? x.status : undefined;
    });
    assert.match(st.message, why[name]!);
    assert.equal(st.phase, "Pending");
    assert.ok(st.containerStatuses.every((s) => !s.state?.running), "no container runs");
    assert.equal((await containersOf(p.metadata!.uid)).filter(isRunning).length, 0);
    const dir = join(podDir(p.metadata!.uid), "volumes");
    assert.deepEqual(mountsUnder(dir), [], `${name}: nothing mounted`);
  }
  assert.ok(!existsSync(join(volDir(pods[0]!.metadata!.uid, "kubernetes.io~secret", "v"), "k")), "no secret bytes on the node for org-b");
  assert.equal((c.storage!.lightningstor.calls().AttachVolume ?? 0) - attachesBefore, 0, "org-a's volume never attached for org-b");
  assert.deepEqual(loopsUnder(c.dir), []);
  for (const p of pods) {
    await other.call("DeletePod", other.pods.deletePod.bind(other.pods), { ref: { orgId: "", projectId: "", namespace: "default", name: p.metadata!.name }, uid: "", gracePeriodSeconds: undefined });
  }
  for (const p of pods) {
    await waitFor(`${p.metadata!.name} finalized`, () => !existsSync(podDir(p.metadata!.uid)), 30_000);
  }
  assert.deepEqual(mountsUnder(c.dir), []);
});

test("agent SIGKILL with a volume-using pod running: after restart the same mounts, no second stage, the pod untouched; a teardown cut short completes", async () => {
  const vol = await c.storage!.createVolume("survivor", 64n * MiB, "user-token");
  await createSecret("survivor-secret", { s: "v1\n" });
  const created = await c.createPod({
    metadata: { name: "survivor" },
    spec: {
      terminationGracePeriodSeconds: 2n,
      containers: [{ name: "c", image: BUSYBOX, command: ["sh", "-c", `${TRAP} echo before > /data/f; while true; do sleep 1; done`], volumeMounts: [
        { name: "data", mountPath: "/data" },
        { name: "sec", mountPath: "/sec" },
        { name: "mem", mountPath: "/mem" },
      ] }],
      volumes: [
        { name: "data", csi: { driver: CSI_DRIVER, volumeHandle: vol.id } },
        { name: "sec", secret: { secretName: "survivor-secret" } },
        { name: "mem", emptyDir: { medium: "Memory", sizeLimit: "8Mi" } },
      ],
    },
  });
  const uid = created.metadata!.uid;
  await running("survivor");
  const staging = (): string[] => readdirSync(stagingRoot()).map((h) => join(stagingRoot(), h));
  const mine = staging(); // only this volume is staged now
  assert.equal(mine.length, 1);
  const snapshot = (): string[] => [...mountsUnder(podDir(uid)), ...mountsUnder(mine[0]!)].map((m) => `${m.mountPoint} ${m.fsType} ${m.source} ${m.options.includes("ro") ? "ro" : "rw"}`).sort();
  const before = snapshot();
  assert.equal(before.length, 4, `staging + publish + secret tmpfs + emptyDir tmpfs: ${before.join("; ")}`);
  const loops = loopsUnder(c.dir);
  const containers = (await containersOf(uid)).map((x) => x.id);
  const attaches = c.storage!.lightningstor.calls().AttachVolume ?? 0;
  const stages = (): number => c.storage!.driverOutput().split("\n").filter((l) => l.includes('"staged"')).length;
  const stagedBefore = stages();
  const registered = (): number => c.agent.output.split("CSI driver registered").length - 1;
  const regBefore = registered();
  const volData = join(podDir(uid), "volumes", "kubernetes.io~csi", "data", "vol_data.json");
  const dataMtime = statSync(volData).mtimeMs;

  await c.agent.kill("SIGKILL");
  c.agent.start();
  await waitFor("the restarted agent registered the driver again", () => registered() > regBefore, 30_000);
  // setUp rewrites vol_data.json on every sync: a new mtime proves the restarted agent set the pod's volumes up again.
  await waitFor("volumes set up again by the restarted agent", () => statSync(volData).mtimeMs > dataMtime, 30_000);
  await new Promise((r) => setTimeout(r, 3000)); // a few more syncs
  assert.deepEqual(snapshot(), before, "same mounts, none added or removed");
  assert.deepEqual(loopsUnder(c.dir), loops, "same loop device");
  assert.equal(c.storage!.lightningstor.calls().AttachVolume ?? 0, attaches, "no second attach");
  assert.equal(stages(), stagedBefore, "no second stage");
  const now = await containersOf(uid);
  assert.deepEqual(now.map((x) => x.id), containers, "containers untouched");
  assert.ok(now.every(isRunning));
  const p = await c.getPod("survivor");
  assert.equal(p?.status?.phase, "Running");
  assert.equal(p?.status?.containerStatuses[0]?.restartCount, 0);

  // Crash mid-teardown: the agent dies, the pod is deleted, and the publish is
  // already gone (as if NodeUnpublish ran just before the crash) but the
  // volume is still staged. The next agent finishes: unstage, detach, clean.
  await c.agent.kill("SIGKILL");
  await c.deletePod("survivor");
  const target = join(podDir(uid), "volumes", "kubernetes.io~csi", "data", "mount");
  execFileSync("umount", [target]);
  c.agent.start();
  await waitFor("pod finalized by the restarted agent", async () => (await c.getPod("survivor")) === undefined, 60_000);
  assert.deepEqual(mountsUnder(c.dir), [], "no mount left");
  assert.deepEqual(loopsUnder(c.dir), [], "no loop device left");
  assert.ok(!existsSync(podDir(uid)), "pod directory removed");
  assert.deepEqual(readdirSync(stagingRoot()), []);
});
