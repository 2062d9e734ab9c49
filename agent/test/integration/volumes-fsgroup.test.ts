// fsGroup on LightningStor volumes through the real lightningstor-csi driver
// (loop devices, ext4), as the kubelet applies it after NodePublish: a non-root
// pod can write its volume, the volume's files belong to the group, the
// fsGroupChangePolicy decides whether a later pod walks the volume again, and
// a read-only volume is never changed. Checked from the node (stat of the
// publish target), inside the container (CRI ExecSync) and in the agent's log.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, chownSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ListEventsRequest, type Pod } from "@plasmacloud/proto/k8shost";
import { BUSYBOX, podRunning, startCluster, waitFor, type Cluster, type PodInput } from "../helpers/cluster";
import { containersOf, execIn, isRunning, purgeNode } from "../helpers/cri";
import { CSI_DRIVER, loopsUnder, mountsUnder } from "../helpers/storage";

const MiB = 1n << 20n;
let c: Cluster;
before(async () => {
  c = await startCluster({ storage: true, extraConfig: "volumes: { csiTimeoutSeconds: 30 }" });
  await waitFor("CSI driver registered with the agent", () => c.agent.output.includes("CSI driver registered"), 30_000);
});
after(async () => {
  await c.close();
  await purgeNode(c.nodeName);
});

const SLEEP = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];
const allReady = (p: Pod): boolean => p.status!.containerStatuses.every((s) => s.ready);
const running = (name: string): Promise<Pod> => podRunning(c, name, allReady, 60_000);
const target = (p: Pod): string => join(c.rootDir, "pods", p.metadata!.uid, "volumes", "kubernetes.io~csi", "data", "mount");

/** Deleted with the pod's grace, so the node finalizes it only after its volumes are torn down. */
async function gone(name: string): Promise<void> {
  await c.deletePod(name);
  await waitFor(`pod ${name} finalized`, async () => (await c.getPod(name)) === undefined, 30_000);
}

async function execOut(p: Pod, cmd: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const ctr = (await containersOf(p.metadata!.uid)).find((x) => isRunning(x));
  assert.ok(ctr, "container running");
  return execIn(ctr.id, cmd);
}

/** A pod running as uid 1000 (group 3000) with fsGroup 2000 and one LightningStor volume at /data. */
function fsGroupPod(name: string, volumeHandle: string, o: { policy?: string; readOnly?: boolean } = {}): PodInput {
  return {
    metadata: { name },
    spec: {
      terminationGracePeriodSeconds: 2n,
      securityContext: { runAsUser: 1000n, runAsGroup: 3000n, fsGroup: 2000n, fsGroupChangePolicy: o.policy },
      containers: [{ name: "c", image: BUSYBOX, command: SLEEP, volumeMounts: [{ name: "data", mountPath: "/data" }] }],
      volumes: [{ name: "data", csi: { driver: CSI_DRIVER, volumeHandle, fsType: "ext4", readOnly: o.readOnly ?? false } }],
    },
  };
}

/** The agent's log lines about fsGroup for this pod. */
const fsGroupLines = (name: string): Record<string, unknown>[] => c.agent.lines().filter((l) => l.pod === `default/${name}` && /fsGroup/.test(String(l.msg)));

test("uid 1000 with fsGroup 2000 writes its LightningStor volume: from the node the root is group 2000, setgid, group rwx, and so is what it wrote", async () => {
  const vol = await c.storage!.createVolume("fsg-write", 64n * MiB, "user-token");
  await c.createPod(fsGroupPod("writer", vol.id));
  const p = await running("writer");
  const w = await execOut(p, ["sh", "-c", "echo hello > /data/written && mkdir /data/dir && stat -c '%g %u' /data/written /data/dir"]);
  assert.equal(w.exitCode, 0, `a non-root pod writes the volume's root: ${w.stderr}`);
  assert.equal(w.stdout, "2000 1000\n2000 1000\n", "what it creates belongs to fsGroup (setgid), not its primary group 3000");

  const root = target(p);
  assert.equal(mountsUnder(c.dir).find((m) => m.mountPoint === root)?.fsType, "ext4", "stat'ing the published volume itself");
  const st = statSync(root);
  assert.equal(st.gid, 2000);
  assert.equal(st.mode & 0o2070, 0o2070, `setgid and group rwx: ${(st.mode & 0o7777).toString(8)}`);
  assert.equal(st.uid, 0, "the owner is kept");
  assert.equal(statSync(join(root, "written")).gid, 2000);
  assert.equal(statSync(join(root, "dir")).mode & 0o2000, 0o2000, "new directories inherit setgid");
  const lostFound = statSync(join(root, "lost+found"));
  assert.equal(lostFound.gid, 2000, "the walk reached mkfs's own directory");
  assert.equal(lostFound.mode & 0o7777, 0o2770);
  assert.ok(fsGroupLines("writer").some((l) => l.msg === "fsGroup applied to the volume"));
  const events = await c.user.call("ListEvents", c.user.events.listEvents.bind(c.user.events), ListEventsRequest.fromPartial({ involvedObjectUid: p.metadata!.uid }));
  assert.ok(!events.items.some((e) => e.reason.startsWith("VolumePermission")), "no ownership trouble reported");
  await gone("writer");
});

test("fsGroupChangePolicy: OnRootMismatch leaves a volume whose root is right as it is, Always walks it, a changed root is walked again", async () => {
  const vol = await c.storage!.createVolume("fsg-policy", 64n * MiB, "user-token");
  await c.createPod(fsGroupPod("first", vol.id));
  const first = await running("first");
  // From the node, between pods: a file of another group, readable by its owner only.
  const marked = (p: Pod): string => join(target(p), "other-group");
  writeFileSync(marked(first), "x");
  chownSync(marked(first), 0, 3000);
  chmodSync(marked(first), 0o600);

  await c.createPod(fsGroupPod("lazy", vol.id, { policy: "OnRootMismatch" }));
  const lazy = await running("lazy");
  assert.equal(statSync(marked(lazy)).gid, 3000, "OnRootMismatch: the root was right, nothing below it was walked");
  assert.equal(statSync(marked(lazy)).mode & 0o777, 0o600);
  assert.ok(fsGroupLines("lazy").some((l) => l.skipped === true), "the agent says it skipped");
  const w = await execOut(lazy, ["sh", "-c", "echo y > /data/from-lazy"]);
  assert.equal(w.exitCode, 0, `the root still lets the group write: ${w.stderr}`);

  await c.createPod(fsGroupPod("always", vol.id, { policy: "Always" }));
  const always = await running("always");
  assert.equal(statSync(marked(always)).gid, 2000, "Always: every file gets the group");
  assert.equal(statSync(marked(always)).mode & 0o777, 0o660);

  // A root that lost setgid is a mismatch: OnRootMismatch walks again.
  chownSync(marked(always), 0, 3000);
  chmodSync(target(always), 0o775);
  await c.createPod(fsGroupPod("mismatch", vol.id, { policy: "OnRootMismatch" }));
  const mismatch = await running("mismatch");
  assert.equal(statSync(marked(mismatch)).gid, 2000);
  assert.equal(statSync(target(mismatch)).mode & 0o7777, 0o2775);
  for (const n of ["first", "lazy", "always", "mismatch"]) await gone(n);
  assert.deepEqual(mountsUnder(c.dir), [], "unstaged after the last pod");
  assert.deepEqual(loopsUnder(c.dir), []);
});

test("a read-only CSI volume is left as it is: no ownership change is tried, the pod reads it and cannot write", async () => {
  const vol = await c.storage!.createVolume("fsg-ro", 64n * MiB, "user-token");
  await c.createPod(fsGroupPod("ro", vol.id, { readOnly: true }));
  const p = await running("ro");
  const root = target(p);
  assert.ok(mountsUnder(c.dir).find((m) => m.mountPoint === root)?.options.includes("ro"), "published read-only");
  const st = statSync(root);
  assert.equal(st.gid, 0, "mkfs's root:root, untouched");
  assert.equal(st.mode & 0o7777, 0o755);
  assert.equal(statSync(join(root, "lost+found")).gid, 0);
  assert.deepEqual(fsGroupLines("ro"), [], "the agent never tried");
  const r = await execOut(p, ["sh", "-c", "ls /data && touch /data/x"]);
  assert.match(r.stdout, /lost\+found/);
  assert.notEqual(r.exitCode, 0, "read-only");
  await gone("ro");
  assert.deepEqual(mountsUnder(c.dir), []);
  assert.deepEqual(loopsUnder(c.dir), []);
  assert.deepEqual(readdirSync(join(c.rootDir, "pods")), [], "pod directories (and their fsGroup records) removed");
});
