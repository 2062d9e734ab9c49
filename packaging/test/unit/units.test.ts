// The systemd units, containerd drop-in, novanet conflist and CSI environment
// templates the node tarball ships, read as files: the directives the node
// relies on are there, the ones that would break a program's job are not,
// and each template is accepted by the program that reads it.
// (packaging/test/integration/dist.test.ts runs systemd-analyze verify and
// containerd on the installed copies.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { list, MOUNT_NAMESPACE_DIRECTIVES, readUnit, timeSpanMs, value, values, type Unit } from "../helpers/unit-file";
import { parseNetConf } from "../../../cni-plugin/src/config/config";
import { parseConfig as parseCsiConfig } from "../../../csi-driver/src/config";

const packaging = new URL("../../", import.meta.url).pathname;
const unit = (name: string): Unit => readUnit(join(packaging, "systemd", name));
const agent = unit("k8shost-agent.service");
const csi = unit("lightningstor-csi.service");
const netns = unit("k8shost-netns.service");

/** What both long-running programs need from their units. */
function assertLongRunning(u: Unit, program: string): void {
  const exec = value(u, "Service", "ExecStart") ?? "";
  assert.ok(exec.startsWith(`@BINDIR@/${program}`), `ExecStart runs the installed ${program}: ${exec}`);
  assert.equal(value(u, "Service", "Restart"), "always");
  assert.ok(timeSpanMs(value(u, "Service", "RestartSec") ?? "") <= 10_000, "a short RestartSec");
  assert.equal(value(u, "Unit", "StartLimitIntervalSec"), "0", "never stops restarting");
  assert.equal(value(u, "Service", "KillMode"), "process", "a restart kills nothing it started");
  assert.ok(Number(value(u, "Service", "LimitNOFILE")) >= 65536, "a high LimitNOFILE");
  assert.equal(value(u, "Service", "NoNewPrivileges"), "yes");
  assert.ok(list(u, "Unit", "After").includes("network-online.target"));
  assert.ok(list(u, "Unit", "Wants").includes("network-online.target"));
  assert.ok(list(u, "Install", "WantedBy").includes("multi-user.target"));
  for (const d of MOUNT_NAMESPACE_DIRECTIVES) {
    assert.deepEqual(values(u, "Service", d), [], `${d}= would give ${program} a mount namespace its mounts never leave`);
  }
  assert.deepEqual(values(u, "Service", "MemoryDenyWriteExecute"), [], "V8 needs writable+executable memory");
}

test("k8shost-agent.service: after containerd, notify + watchdog, restarts that never touch pods", () => {
  assertLongRunning(agent, "k8shost-agent");
  assert.equal(value(agent, "Service", "ExecStart"), "@BINDIR@/k8shost-agent run --config /etc/k8shost-agent/config.yaml");
  for (const after of ["containerd.service", "network-online.target"]) assert.ok(list(agent, "Unit", "After").includes(after), `After=${after}`);
  assert.equal(value(agent, "Service", "Type"), "notify");
  assert.equal(value(agent, "Service", "NotifyAccess"), "all", "systemd-notify's barrier comes from its own pid");
  // Pinged every WatchdogSec/2; /healthz turns bad after 60 s without a relist.
  const watchdog = timeSpanMs(value(agent, "Service", "WatchdogSec") ?? "0");
  assert.ok(watchdog >= 10_000 && watchdog <= 120_000, `WatchdogSec=${watchdog}ms`);
  assert.equal(value(agent, "Service", "Delegate"), "yes", "the agent manages pod cgroups");
  assert.deepEqual(values(agent, "Service", "Environment"), ["NODE_OPTIONS=--max-semi-space-size=4", "MALLOC_ARENA_MAX=2"], "the launcher's V8 flag and malloc arenas, for a flat RSS");
});

test("lightningstor-csi.service: its flags from the environment file, no device allow-list", () => {
  assertLongRunning(csi, "lightningstor-csi");
  assert.equal(value(csi, "Service", "EnvironmentFile"), "/etc/lightningstor-csi/lightningstor-csi.env");
  for (const d of ["DevicePolicy", "DeviceAllow", "ProtectClock"]) assert.deepEqual(values(csi, "Service", d), [], `${d}= would hide the loop devices`);
});

test("k8shost-netns.service: /run/netns shared before containerd starts", () => {
  assert.deepEqual(list(netns, "Unit", "Before"), ["containerd.service"]);
  assert.equal(value(netns, "Service", "Type"), "oneshot");
  assert.equal(value(netns, "Service", "RemainAfterExit"), "yes");
  const exec = values(netns, "Service", "ExecStart").join("\n");
  assert.match(exec, /mountpoint -q \/run\/netns \|\| mount --bind \/run\/netns \/run\/netns/, "bound onto itself only once");
  assert.match(exec, /mount --make-shared \/run\/netns/);
  assert.ok(list(netns, "Install", "WantedBy").includes("containerd.service"), "enabled, containerd pulls it in");
});

test("the novanet conflist template parses with novanet's own config parser", () => {
  const conflist = JSON.parse(readFileSync(join(packaging, "cni/10-novanet.conflist"), "utf8")) as { cniVersion: string; name: string; plugins: Record<string, unknown>[] };
  assert.deepEqual(conflist.plugins.map((p) => p.type), ["novanet", "portmap"]);
  // What containerd's libcni hands the plugin: its entry plus the list's version and name.
  const conf = parseNetConf(JSON.stringify({ cniVersion: conflist.cniVersion, name: conflist.name, ...conflist.plugins[0] }), []);
  assert.equal(conf.name, "novanet", "the agent's default network.novanet.networkName");
  assert.equal(conf.mode, "ovs");
  assert.match(conf.server.server_addr, /\.invalid:\d+$/, "a placeholder no node can reach by accident");
  assert.deepEqual(conflist.plugins[0]!.capabilities, { "io.kubernetes.cri.pod-annotations": true }, "containerd passes the agent's tenant annotations");
});

test("the CSI environment template names the variables lightningstor-csi reads", () => {
  const env: Record<string, string> = {};
  for (const line of readFileSync(join(packaging, "config/lightningstor-csi.env"), "utf8").split("\n")) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!;
  }
  assert.deepEqual(Object.keys(env).sort(), ["K8SHOST_ORG_ID", "K8SHOST_PROJECT_ID", "LIGHTNINGSTOR_ADDR", "LIGHTNINGSTOR_TOKEN_FILE"]);
  assert.throws(() => parseCsiConfig([], env), /--org-id: is required/, "the tenant is the operator's to fill in");
  const { config } = parseCsiConfig([], { ...env, K8SHOST_ORG_ID: "org-1", K8SHOST_PROJECT_ID: "proj-1" });
  assert.equal(config.lightningstor.address, "lightningstor.invalid:7080");
  assert.equal(config.lightningstor.tokenFile, "/etc/lightningstor-csi/token");
});
