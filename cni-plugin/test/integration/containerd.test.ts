// containerd runs a pod through a conflist of novanet chained with portmap:
// the sandbox gets its NovaNET address (seen in CRI status, in its netns and
// in NovaNET), portmap's DNAT follows it, and StopPodSandbox releases the
// port. Our conflist sorts first in conf_dir (max_conf_num = 1) for the
// test's duration only; containerd's previous network is checked restored.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { NamespaceMode, Protocol, RunPodSandboxRequest } from "@plasmacloud/proto/cri";
import { ensureBuilt } from "../helpers/build.js";
import { Cri } from "../helpers/cri.js";
import { exec, sh } from "../helpers/exec.js";
import { deleteVethsOf } from "../helpers/netns.js";
import { startFixture, type Fixture } from "../helpers/novanet.js";
import { bridgeName, hostVethName } from "../../src/plumbing/names.js";

const STACK = process.env.PLASMA_STACK_DIR ?? "/var/lib/plasmacloud-stack";
const CONF_DIR = join(STACK, "cni/net.d");
const BIN = join(STACK, "cni/bin/novanet");
const CONFLIST = join(CONF_DIR, "00-novanet-cri-test.conflist");
const NET = "novanet-cri-test";
const SUBNET = `sn-cri-${process.pid}`;
const HOST_PORT = 18000 + (process.pid % 1000);

let fx: Fixture;
const cri = new Cri();
let sandboxId: string | undefined;
let networksBefore: string[] = [];
let hadBinary = false;

async function waitFor(what: string, ok: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

before(async () => {
  const bin = ensureBuilt();
  fx = await startFixture([{ id: SUBNET, orgId: "org-cri", projectId: "proj-cri", cidr: "10.213.11.0/24", dnsServers: ["10.213.11.53"] }]);
  networksBefore = await cri.networks();
  hadBinary = existsSync(BIN);
  if (hadBinary) renameSync(BIN, `${BIN}.before-test`);
  copyFileSync(bin, `${BIN}.tmp`);
  renameSync(`${BIN}.tmp`, BIN);
  const conf = fx.conf({ cniVersion: undefined, name: undefined, cacheDir: undefined });
  writeFileSync(CONFLIST, JSON.stringify({
    cniVersion: "1.0.0", name: NET,
    plugins: [conf, { type: "portmap", capabilities: { portMappings: true } }],
  }, null, 2));
  await waitFor("containerd to load the novanet conflist", async () => (await cri.networks()).includes(NET));
});

after(async () => {
  if (sandboxId) {
    await cri.stopPodSandbox(sandboxId).catch(() => undefined);
    await cri.removePodSandbox(sandboxId).catch(() => undefined);
  }
  rmSync(CONFLIST, { force: true });
  rmSync(BIN, { force: true });
  if (hadBinary) renameSync(`${BIN}.before-test`, BIN);
  // containerd goes back to what it had (the dev conflist, or none).
  await waitFor("containerd to drop the test conflist", async () => !(await cri.networks()).includes(NET)).catch(() => undefined);
  await deleteVethsOf(NET);
  await exec("ip", ["link", "del", bridgeName("nvbr", SUBNET)]);
  cri.close();
  await fx?.close();
});

describe("containerd + CRI", () => {
  test("a pod sandbox gets a NovaNET IP through novanet chained with portmap", { timeout: 120_000 }, async () => {
    sandboxId = await cri.runPodSandbox(RunPodSandboxRequest.fromPartial({
      config: {
        metadata: { name: "cni-test-pod", uid: `uid-${process.pid}`, namespace: "cni-test", attempt: 0 },
        hostname: "cni-test-pod",
        portMappings: [{ protocol: Protocol.TCP, containerPort: 80, hostPort: HOST_PORT, hostIp: "" }],
        linux: { securityContext: { namespaceOptions: { network: NamespaceMode.POD, pid: NamespaceMode.POD, ipc: NamespaceMode.POD } } },
      },
    }));
    const st = await cri.podSandboxStatus(sandboxId);
    const ports = fx.novanet.ports();
    assert.equal(ports.length, 1);
    const port = ports[0]!;
    assert.equal(port.deviceId, sandboxId, "device_id is the sandbox id");
    assert.equal(st.status?.network?.ip, port.ipAddress, "CRI reports the NovaNET address");

    const info = JSON.parse(st.info.info ?? "{}") as { runtimeSpec?: { linux?: { namespaces?: { type: string; path?: string }[] } } };
    const netns = info.runtimeSpec?.linux?.namespaces?.find((n) => n.type === "network")?.path;
    assert.ok(netns, "sandbox netns path");
    const addr = await sh("nsenter", `--net=${netns}`, "ip", "-br", "addr", "show", "dev", "eth0");
    assert.match(addr, new RegExp(`${port.ipAddress.replace(/\./g, "\\.")}/24`));
    assert.match(await sh("ip", "-j", "link", "show", hostVethName(sandboxId, "eth0")), new RegExp(bridgeName("nvbr", SUBNET)));
    assert.match(await sh("iptables-save", "-t", "nat"), new RegExp(`--dport ${HOST_PORT} -j DNAT --to-destination ${port.ipAddress.replace(/\./g, "\\.")}:80`));

    // Our cache shares libcni's default path and format with containerd's own.
    const cacheFile = `/var/lib/cni/results/${NET}-${sandboxId}-eth0`;
    assert.ok(existsSync(cacheFile), "result cached at libcni's path");
    await cri.stopPodSandbox(sandboxId);
    assert.equal(fx.novanet.ports().length, 0, "StopPodSandbox released the NovaNET port");
    assert.ok(!existsSync(cacheFile), "cache entry removed");
    assert.equal((await exec("ip", ["link", "show", hostVethName(sandboxId, "eth0")])).code, 1, "host veth gone");
    assert.doesNotMatch(await sh("iptables-save", "-t", "nat"), new RegExp(`--dport ${HOST_PORT} `), "portmap DNAT gone");
    await cri.removePodSandbox(sandboxId);
    sandboxId = undefined;
  });

  test("containerd's previous network is back once the test conflist is gone", async () => {
    rmSync(CONFLIST, { force: true });
    await waitFor("containerd to reload conf_dir", async () => !(await cri.networks()).includes(NET));
    assert.deepEqual(await cri.networks(), networksBefore);
  });
});
