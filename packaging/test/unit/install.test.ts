// install.sh against a scratch root, from a tarball layout with stand-in
// executables (tiny scripts): where everything lands, idempotence, a config
// the operator changed is never overwritten, --uninstall removes exactly what
// was installed, and the path options. The real tarball and executables are
// packaging/test/integration/dist.test.ts's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { snapshot, tree } from "../helpers/tree";

const packaging = new URL("../../", import.meta.url).pathname;

/** An unpacked tarball whose executables print `<name> <tag>`. */
function fakeTarball(dir: string, tag: string, agentConfig = "maxPods: 110\n"): string {
  const t = join(dir, `tarball-${tag}`);
  rmSync(t, { recursive: true, force: true });
  for (const d of ["systemd", "containerd", "cni", "config"]) cpSync(join(packaging, d), join(t, d), { recursive: true });
  cpSync(join(packaging, "install.sh"), join(t, "install.sh"));
  mkdirSync(join(t, "bin"));
  for (const name of ["k8shost-agent", "lightningstor-csi", "novanet"]) {
    writeFileSync(join(t, "bin", name), `#!/bin/sh\necho ${name} ${tag}\n`);
    chmodSync(join(t, "bin", name), 0o755);
  }
  writeFileSync(join(t, "config", "k8shost-agent.yaml"), agentConfig);
  writeFileSync(join(t, "VERSION"), `${tag}\n`);
  return t;
}

function install(tarball: string, ...args: string[]): { status: number | null; out: string } {
  const r = spawnSync("bash", [join(tarball, "install.sh"), ...args], { encoding: "utf8" });
  return { status: r.status, out: r.stdout + r.stderr };
}

function scratch(t: { after(fn: () => void): void }): { dir: string; root: string } {
  const dir = mkdtempSync(join(tmpdir(), "pkg-install-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, "root");
  mkdirSync(root);
  return { dir, root };
}

const CONFIGS = ["/etc/k8shost-agent/config.yaml", "/etc/lightningstor-csi/lightningstor-csi.env", "/etc/containerd/conf.d/10-k8shost.toml"];

test("installs programs, units (with the prefix), configs and a manifest of them", (t) => {
  const { dir, root } = scratch(t);
  const r = install(fakeTarball(dir, "1.0.0"), "--root", root);
  assert.equal(r.status, 0, r.out);
  const files = tree(root);
  for (const f of ["/usr/local/bin/k8shost-agent", "/usr/local/bin/lightningstor-csi", "/opt/cni/bin/novanet"]) {
    assert.equal(files.get(f)?.mode, "755", `${f} executable`);
  }
  for (const u of ["k8shost-agent", "lightningstor-csi", "k8shost-netns"]) assert.equal(files.get(`/usr/local/lib/systemd/system/${u}.service`)?.mode, "644");
  const unit = readFileSync(join(root, "usr/local/lib/systemd/system/k8shost-agent.service"), "utf8");
  assert.match(unit, /^ExecStart=\/usr\/local\/bin\/k8shost-agent run --config \/etc\/k8shost-agent\/config\.yaml$/m);
  assert.doesNotMatch(unit, /@BINDIR@/);
  for (const c of CONFIGS) assert.ok(files.has(c), c);
  assert.ok(files.has("/usr/local/share/k8shost-node/10-novanet.conflist"));
  assert.ok(files.has("/usr/local/share/k8shost-node/install.sh"), "uninstall works without the tarball");
  const manifest = readFileSync(join(root, "var/lib/k8shost-node/manifest"), "utf8");
  assert.match(manifest, /^# k8shost-node\t1\.0\.0$/m);
  for (const [path, f] of files) {
    if (path === "/var/lib/k8shost-node/manifest") continue;
    assert.ok(manifest.includes(`\t${f.kind === "dir" ? "-" : f.sum}\t${path}\n`), `${path} is in the manifest`);
  }
});

test("a second run changes nothing", (t) => {
  const { dir, root } = scratch(t);
  const tarball = fakeTarball(dir, "1.0.0");
  assert.equal(install(tarball, "--root", root).status, 0);
  const before = snapshot(root);
  const again = install(tarball, "--root", root);
  assert.equal(again.status, 0, again.out);
  assert.match(again.out, /: 0 file\(s\) changed/);
  assert.deepEqual(snapshot(root), before);

  // Also with a config the operator changed: kept, and no FILE.new while the default is the same.
  appendFileSync(join(root, "etc/k8shost-agent/config.yaml"), "maxPods: 50\n");
  const edited = snapshot(root);
  const kept = install(tarball, "--root", root);
  assert.match(kept.out, /kept \/etc\/k8shost-agent\/config\.yaml: changed since it was installed \(the default it started from is unchanged\)/);
  assert.match(kept.out, /: 0 file\(s\) changed/);
  assert.deepEqual(snapshot(root), edited);
});

test("an upgrade replaces shipped files and unchanged configs, keeps a config the operator changed", (t) => {
  const { dir, root } = scratch(t);
  assert.equal(install(fakeTarball(dir, "1.0.0"), "--root", root).status, 0);
  const agentConfig = join(root, "etc/k8shost-agent/config.yaml");
  appendFileSync(agentConfig, "heartbeatSeconds: 5\n");
  const mine = readFileSync(agentConfig, "utf8");
  const r = install(fakeTarball(dir, "1.1.0", "maxPods: 120\n"), "--root", root);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /kept \/etc\/k8shost-agent\/config\.yaml: changed since it was installed/);
  assert.equal(readFileSync(agentConfig, "utf8"), mine, "the operator's file is untouched");
  assert.equal(readFileSync(`${agentConfig}.new`, "utf8"), "maxPods: 120\n", "the new default beside it");
  assert.equal(readFileSync(join(root, "usr/local/bin/k8shost-agent"), "utf8"), "#!/bin/sh\necho k8shost-agent 1.1.0\n");
  // Once the operator takes the new default, the next upgrade owns the file again and drops the .new.
  cpSync(`${agentConfig}.new`, agentConfig);
  assert.equal(install(fakeTarball(dir, "1.2.0", "maxPods: 130\n"), "--root", root).status, 0);
  assert.equal(readFileSync(agentConfig, "utf8"), "maxPods: 130\n");
  assert.ok(!existsSync(`${agentConfig}.new`));
});

test("--uninstall removes exactly what it installed; a changed config stays, and it says so", (t) => {
  const { dir, root } = scratch(t);
  mkdirSync(join(root, "etc"));
  writeFileSync(join(root, "etc/hostname"), "worker-1\n"); // not ours: must survive
  assert.equal(install(fakeTarball(dir, "1.0.0"), "--root", root).status, 0);
  appendFileSync(join(root, "etc/lightningstor-csi/lightningstor-csi.env"), "K8SHOST_ORG_ID=org-1\n");
  // From the installed copy: the tarball may be long gone.
  const r = install(join(root, "usr/local/share/k8shost-node"), "--root", root, "--uninstall");
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /kept \/etc\/lightningstor-csi\/lightningstor-csi\.env: the operator changed it/);
  assert.deepEqual([...tree(root).keys()], ["/etc", "/etc/hostname", "/etc/lightningstor-csi", "/etc/lightningstor-csi/lightningstor-csi.env"]);
  const again = install(fakeTarball(dir, "1.0.0"), "--root", root, "--uninstall");
  assert.equal(again.status, 1, "nothing left to uninstall");
  assert.match(again.out, /nothing to uninstall/);
});

test("--prefix, --unitdir, --cni-bin-dir; the reference plugins linked; a moved directory leaves nothing behind", (t) => {
  const { dir, root } = scratch(t);
  const tarball = fakeTarball(dir, "1.0.0");
  // Debian's reference plugins, as the host has them.
  mkdirSync(join(root, "usr/lib/cni"), { recursive: true });
  for (const p of ["loopback", "portmap", "bridge"]) {
    writeFileSync(join(root, "usr/lib/cni", p), "#!/bin/sh\n");
    chmodSync(join(root, "usr/lib/cni", p), 0o755);
  }
  const hostBefore = tree(root);
  const r = install(tarball, "--root", root, "--prefix", "/opt/k8shost", "--unitdir=/etc/systemd/system", "--cni-bin-dir", "/opt/cni-a");
  assert.equal(r.status, 0, r.out);
  const files = tree(root);
  assert.ok(files.has("/opt/k8shost/bin/k8shost-agent"));
  assert.ok(files.has("/opt/cni-a/novanet"));
  assert.match(readFileSync(join(root, "etc/systemd/system/lightningstor-csi.service"), "utf8"), /^ExecStart=\/opt\/k8shost\/bin\/lightningstor-csi$/m);
  assert.equal(readlinkSync(join(root, "opt/cni-a/loopback")), "/usr/lib/cni/loopback");
  assert.equal(readlinkSync(join(root, "opt/cni-a/portmap")), "/usr/lib/cni/portmap");
  assert.ok(!files.has("/opt/cni-a/bridge"), "only what the conflist and containerd need");

  assert.equal(install(tarball, "--root", root, "--prefix", "/opt/k8shost", "--unitdir=/etc/systemd/system", "--cni-bin-dir", "/opt/cni-b").status, 0);
  const moved = tree(root);
  assert.ok(moved.has("/opt/cni-b/novanet") && moved.has("/opt/cni-b/portmap"));
  assert.ok(!moved.has("/opt/cni-a"), "the old directory and its links went with the move");

  assert.equal(install(tarball, "--root", root, "--uninstall").status, 0);
  assert.deepEqual(tree(root), hostBefore, "the host's own files untouched, ours gone");
});

test("bad arguments are refused before anything is written", (t) => {
  const { dir, root } = scratch(t);
  const tarball = fakeTarball(dir, "1.0.0");
  assert.equal(install(tarball, "--root", root, "--frobnicate").status, 2);
  assert.equal(install(tarball, "--root").status, 2);
  const relative = install(tarball, "--root", root, "--prefix", "usr/local");
  assert.equal(relative.status, 1);
  assert.match(relative.out, /must be absolute/);
  assert.equal(install(tarball, "--root", root, "--prefix", "/opt/my dir").status, 1);
  assert.deepEqual([...tree(root).keys()], []);
});
