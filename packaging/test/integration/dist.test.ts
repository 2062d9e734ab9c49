// The node tarball end to end: `npm run dist` builds it (or finds dist/ fresh),
// install.sh puts it into a scratch root, and the INSTALLED executables - not
// the checkout - run for real: version queries with no Node on PATH, the agent
// running a pod to Running with a NovaNET address, novanet through ADD, CHECK
// and DEL, the CSI driver serving Identity on its socket. systemd-analyze,
// containerd and shellcheck judge the installed units, drop-in and install.sh.
// The linux-arm64 tarball: the same layout, aarch64 executables that run under
// qemu-user as the x64 ones do. Last, --uninstall leaves the scratch root empty.
import { after, before, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import { BUSYBOX, podRunning, startCluster, TEST_SUBNET, waitFor } from "../../../agent/test/helpers/cluster";
import { TokenStore } from "../../../stand-ins/src/iam/tokens";
import { startLightningStorStandIn } from "../../../stand-ins/src/lightningstor/server";
import { CsiTestClient } from "../../../csi-driver/test/helpers/csi-client";
import { DRIVER_NAME, DRIVER_VERSION } from "../../../csi-driver/src/driver";
import { CSI_DRIVER, mountsUnder } from "../../../agent/test/helpers/storage";
import { readUnit, value, values } from "../helpers/unit-file";
import { tree } from "../helpers/tree";
import { novanetCycle } from "../helpers/cni-cycle";

const execFileP = promisify(execFile);
const repo = new URL("../../../", import.meta.url).pathname;
let scratch = "";
let root = "";
let version = "";
let armTarball = "";
let x64Dir = "";
const installed = (p: string): string => join(root, p);
const AGENT = "usr/local/bin/k8shost-agent";
const CSI = "usr/local/bin/lightningstor-csi";
const NOVANET = "opt/cni/bin/novanet";
const UNITS = "usr/local/lib/systemd/system";

before(() => {
  const out = execFileSync(process.execPath, ["--import", "tsx", join(repo, "scripts/dist/main.ts"), "--no-timings"], { cwd: repo, encoding: "utf8" });
  const tarball = /^dist: (?:built|up to date) (\S+-linux-x64\.tar\.gz)$/m.exec(out)?.[1];
  assert.ok(tarball, `npm run dist named no x64 tarball:\n${out}`);
  armTarball = /^dist: (?:built|up to date) (\S+-linux-arm64\.tar\.gz)$/m.exec(out)?.[1] ?? "";
  assert.ok(armTarball, `npm run dist named no arm64 tarball:\n${out}`);
  version = /k8shost-node-(.+)-linux-x64\.tar\.gz$/.exec(tarball)![1]!;
  scratch = mkdtempSync(join(tmpdir(), "pkg-dist-"));
  execFileSync("tar", ["-xzf", tarball, "-C", scratch]);
  x64Dir = join(scratch, basename(tarball, ".tar.gz"));
  root = join(scratch, "root");
  mkdirSync(root);
  execFileSync("bash", [join(x64Dir, "install.sh"), "--root", root], { stdio: "pipe" });
});

after(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test("the installed executables tell their version with no Node on PATH", () => {
  const bare = { env: {}, encoding: "utf8" as const };
  assert.equal(execFileSync(installed(AGENT), ["--version"], bare), `k8shost-agent ${version} (node ${process.version})\n`);
  assert.match(execFileSync(installed(CSI), ["--version"], bare), new RegExp(`^lightningstor-csi ${DRIVER_VERSION} \\(node v`));
  // A CNI plugin's version query is the spec's VERSION verb.
  const cni = JSON.parse(execFileSync(installed(NOVANET), [], { ...bare, env: { CNI_COMMAND: "VERSION" }, input: "" })) as { supportedVersions: string[] };
  assert.ok(cni.supportedVersions.includes("1.1.0"), JSON.stringify(cni));
  // And an operator's --version, as the reference plugins' about text, with the same release.
  assert.equal(execFileSync(installed(NOVANET), ["--version"], bare), `novanet ${version}\nCNI protocol versions supported: ${cni.supportedVersions.join(", ")}\n`);
  // With the environment its unit gives it, the agent starts as cleanly (no code-cache warning).
  const env = Object.fromEntries(values(readUnit(installed(`${UNITS}/k8shost-agent.service`)), "Service", "Environment").map((e) => e.split(/=(.*)/s).slice(0, 2)));
  const r = spawnSync(installed(AGENT), ["--version"], { env, encoding: "utf8" });
  assert.equal(r.status, 0);
  assert.equal(r.stderr, "");
});

test("the installed agent checks the installed config; config defaults is that config", (t) => {
  const config = installed("etc/k8shost-agent/config.yaml");
  assert.equal(execFileSync(installed(AGENT), ["config", "check", config], { encoding: "utf8" }), "ok\n");
  assert.equal(execFileSync(installed(AGENT), ["config", "defaults"], { encoding: "utf8" }), readFileSync(config, "utf8"));
  const broken = join(scratch, "broken.yaml");
  t.after(() => rmSync(broken, { force: true }));
  writeFileSync(broken, readFileSync(config, "utf8").replace(/^maxPods: \d+$/m, "maxPods: many"));
  const r = spawnSync(installed(AGENT), ["config", "check", broken], { encoding: "utf8" });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /config field 'maxPods': must be a number/);
});

test("systemd-analyze, containerd and shellcheck accept the installed units, drop-in and install.sh", () => {
  // systemd-analyze checks that ExecStart= exists: point the installed units at the scratch root.
  const units = join(scratch, "units");
  mkdirSync(units);
  for (const u of ["k8shost-agent.service", "lightningstor-csi.service", "k8shost-netns.service"]) {
    const text = readFileSync(installed(`${UNITS}/${u}`), "utf8");
    assert.ok(text.includes("ExecStart=/") && !text.includes("@BINDIR@"), `${u}: paths filled in`);
    writeFileSync(join(units, u), text.replaceAll("ExecStart=/usr/local/", `ExecStart=${root}/usr/local/`));
  }
  const verify = spawnSync("systemd-analyze", ["verify", ...["k8shost-netns", "lightningstor-csi", "k8shost-agent"].map((u) => join(units, `${u}.service`))], { encoding: "utf8" });
  assert.equal(verify.status, 0, verify.stderr);
  assert.equal(verify.stderr.trim(), "", "no warning either (an unknown key only warns)");
  assert.equal(value(readUnit(join(units, "k8shost-agent.service")), "Service", "ExecStart"), `${root}/usr/local/bin/k8shost-agent run --config /etc/k8shost-agent/config.yaml`);

  // containerd 1.6 merging the drop-in over Debian's config.toml, as on a node that imports it.
  const cfg = join(scratch, "containerd.toml");
  writeFileSync(cfg, `version = 2\nimports = ["${installed("etc/containerd/conf.d/10-k8shost.toml")}"]\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/usr/lib/cni"\n`);
  const dump = execFileSync("containerd", ["--config", cfg, "config", "dump"], { encoding: "utf8" });
  assert.match(dump, /^\s*bin_dir = "\/opt\/cni\/bin"$/m, "the drop-in's CNI bin_dir wins over config.toml's");
  assert.match(dump, /^\s*conf_dir = "\/etc\/cni\/net\.d"$/m);
  assert.match(dump, /^\s*sandbox_image = "registry\.invalid\/plasmacloud\/pause:3\.9"$/m);
  assert.match(dump, /^\s*restrict_oom_score_adj = false$/m);

  const lint = spawnSync("shellcheck", [installed("usr/local/share/k8shost-node/install.sh")], { encoding: "utf8" });
  assert.equal(lint.status, 0, lint.stdout);
});

test("the installed agent runs a pod to Running with a NovaNET address and a LightningStor volume mounted", async () => {
  const c = await startCluster({ executable: installed(AGENT), novanetPluginPath: installed(NOVANET), storage: true, csiExecutable: installed(CSI) });
  try {
    await waitFor("the agent's start-up network GC through the installed novanet", () => c.agent.lines().some((l) => /network GC done/.test(String(l.msg))));
    assert.equal(realpathSync(`/proc/${c.agent.proc!.pid}/exe`), realpathSync(installed(AGENT)), "the running agent is the installed executable");
    await waitFor("the installed CSI driver registered with the installed agent", () => c.agent.output.includes("CSI driver registered"), 30_000);
    const vol = await c.storage!.createVolume("dist-data", 32n << 20n, "user-token");
    await c.createPod({
      metadata: { name: "dist1" },
      spec: {
        terminationGracePeriodSeconds: 1n,
        containers: [{ name: "c", image: BUSYBOX, command: ["sh", "-c", "echo from-the-pod > /data/f && exec sleep 3600"], volumeMounts: [{ name: "data", mountPath: "/data" }] }],
        volumes: [{ name: "data", csi: { driver: CSI_DRIVER, volumeHandle: vol.id, fsType: "ext4" } }],
      },
    });
    const pod = await podRunning(c, "dist1", (p) => !!p.status?.podIp, 60_000);
    // The volume as the host sees it: an ext4 mount published into the pod's directory, holding the pod's write.
    const target = mountsUnder(c.dir).find((m) => m.mountPoint.endsWith("/volumes/kubernetes.io~csi/data/mount"));
    assert.equal(target?.fsType, "ext4", JSON.stringify(mountsUnder(c.dir)));
    await waitFor("the pod's write on the volume", () => existsSync(join(target!.mountPoint, "f")) && readFileSync(join(target!.mountPoint, "f"), "utf8") === "from-the-pod\n");
    assert.match(pod.status!.podIp, /^10\.77\.0\.\d+$/, `an address of NovaNET subnet ${TEST_SUBNET}`);
    assert.ok(c.novanet.ports().some((p) => p.ipAddress === pod.status!.podIp), "NovaNET holds the pod's port");
    execFileSync("ping", ["-c", "1", "-W", "2", pod.status!.podIp]);
    await c.deletePod("dist1");
    await waitFor("dist1 finalized", async () => !(await c.getPod("dist1")), 30_000);
    assert.deepEqual(mountsUnder(c.dir), [], "the volume is unmounted with the pod");
  } finally {
    await c.close();
  }
});

test("the installed novanet: ADD, CHECK and DEL against the NovaNET stand-in", async () => {
  await novanetCycle(installed(NOVANET));
});

// The arm64 tarball, unpacked beside the x64 one on first use.
let armDir = "";
const armTarballDir = (): string => {
  if (armDir) return armDir;
  const into = join(scratch, "arm64");
  mkdirSync(into);
  execFileSync("tar", ["-xzf", armTarball, "-C", into]);
  return (armDir = join(into, basename(armTarball, ".tar.gz")));
};
/** A wrapper that runs the arm64 tarball's bin/NAME under qemu-user (with Debian's aarch64 libc and
 *  libstdc++); exec, so a signal to the wrapper's pid reaches qemu, which passes it to the program. */
const underQemu = (name: string): string => {
  const wrapper = join(scratch, `${name}-arm64`);
  writeFileSync(wrapper, `#!/bin/sh\nQEMU_LD_PREFIX=/usr/aarch64-linux-gnu exec /usr/bin/qemu-aarch64-static ${join(armTarballDir(), "bin", name)} "$@"\n`, { mode: 0o755 });
  return wrapper;
};

test("the arm64 tarball: the x64 one's layout and files, its executables aarch64", () => {
  const [x64, arm] = [tree(x64Dir), tree(armTarballDir())];
  assert.deepEqual([...arm.keys()], [...x64.keys()]);
  for (const [p, e] of x64) {
    const a = arm.get(p)!;
    assert.deepEqual([a.kind, a.mode], [e.kind, e.mode], p);
    if (p.startsWith("/bin/")) {
      assert.notEqual(a.sum, e.sum, `${p}: another executable than the x64 one`);
      assert.match(execFileSync("file", ["-b", join(armDir, p)], { encoding: "utf8" }), /^ELF 64-bit LSB .*ARM aarch64/, p);
      assert.equal(readFileSync(join(armDir, p)).readUInt16LE(18), 0xb7, `${p}: e_machine EM_AARCH64`);
    } else assert.equal(a.sum, e.sum, `${p}: the same as in the x64 tarball`);
  }
});

test("the arm64 agent under qemu-user: its version, the tarball's config checks, the same config defaults", async () => {
  const agent = underQemu("k8shost-agent");
  const bare = { env: {}, encoding: "utf8" as const };
  // Side by side: each emulated Node start takes a second or two.
  const [v, check, defaults] = await Promise.all([["--version"], ["config", "check", join(armDir, "config/k8shost-agent.yaml")], ["config", "defaults"]]
    .map(async (args) => (await execFileP(agent, args, bare)).stdout));
  assert.equal(v, `k8shost-agent ${version} (node ${process.version})\n`);
  assert.equal(check, "ok\n");
  assert.equal(defaults, execFileSync(installed(AGENT), ["config", "defaults"], bare));
});

test("novanet for arm64: an aarch64 executable that passes the same cycle under qemu-user", async () => {
  // The plugin runs emulated; the ip/ethtool it starts run natively.
  const wrapper = underQemu("novanet");
  assert.match(execFileSync(wrapper, ["--version"], { encoding: "utf8" }), new RegExp(`^novanet ${version}\n`));
  await novanetCycle(wrapper);
});

test("the installed lightningstor-csi serves Identity on its socket and stops on SIGTERM", async (t) => {
  await csiIdentity(t, installed(CSI), join(scratch, "csi"));
});

test("the arm64 lightningstor-csi under qemu-user: its version, Identity on its socket, SIGTERM", async (t) => {
  const csi = underQemu("lightningstor-csi");
  assert.equal(execFileSync(csi, ["--version"], { env: {}, encoding: "utf8" }), `lightningstor-csi ${DRIVER_VERSION} (node ${process.version})\n`);
  await csiIdentity(t, csi, join(scratch, "csi-arm64"));
});

/** Starts the driver `exe` against a LightningStor stand-in; GetPluginInfo and Probe on its socket; SIGTERM stops it cleanly. */
async function csiIdentity(t: TestContext, exe: string, dir: string): Promise<void> {
  mkdirSync(dir);
  const tokens = new TokenStore().add("csi-token", { name: "system:node:dist", kind: "node", orgId: "org-a", projectId: "proj-a", nodeName: "dist" });
  writeFileSync(join(dir, "token"), "csi-token\n", { mode: 0o600 });
  const ls = await startLightningStorStandIn({ tokens, dataDir: join(dir, "data"), address: `unix:${join(dir, "ls.sock")}` });
  t.after(() => ls.stop());
  const socket = join(dir, "plugins", DRIVER_NAME, "csi.sock");
  const driver = spawn(exe, [
    "--node-id", "dist", "--endpoint", socket, "--registry-dir", join(dir, "registry"), "--state-dir", join(dir, "state"),
    "--lightningstor-address", ls.address, "--token-file", join(dir, "token"), "--org-id", "org-a", "--project-id", "proj-a",
  ], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  driver.stdout.on("data", (d: Buffer) => (output += d.toString()));
  driver.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((r) => driver.once("exit", (code) => r(code)));
  t.after(() => void driver.kill("SIGKILL"));
  await waitFor(`the driver's socket (output: ${output})`, () => existsSync(socket), 15_000);
  const csi = new CsiTestClient(socket, 10_000);
  try {
    const info = await csi.getPluginInfo();
    assert.equal(info.name, DRIVER_NAME);
    assert.equal(info.vendorVersion, DRIVER_VERSION);
    assert.notEqual((await csi.probe()).ready, false, "Probe: ready");
  } finally {
    csi.close();
  }
  driver.kill("SIGTERM");
  assert.equal(await exited, 0, output);
  assert.ok(!existsSync(socket), "the socket goes with the driver");
}

test("install.sh --uninstall leaves the scratch root empty", () => {
  execFileSync("bash", [installed("usr/local/share/k8shost-node/install.sh"), "--root", root, "--uninstall"], { stdio: "pipe" });
  assert.deepEqual([...tree(root).keys()], []);
});
