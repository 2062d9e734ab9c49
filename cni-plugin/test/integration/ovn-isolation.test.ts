// Tenant isolation on the wire with real OVN: two tenants' pods on one node
// (one br-int) exchange nothing, not ICMP, TCP or UDP, not with a source IP
// or MAC forged inside the pod's netns; and port security holds a pod to the
// MAC and IP NovaNET gave it even within its own subnet. Every "nothing" is
// probed where the same probes demonstrably work (helpers/traffic.ts reach).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { sh } from "../helpers/exec.js";
import { ensureBuilt } from "../helpers/build.js";
import { deleteAllNetns, inNetns } from "../helpers/netns.js";
import { startFixture, type Fixture } from "../helpers/novanet.js";
import { OVN_NB, ensureOvn, waitBound } from "../helpers/ovn.js";
import { addPod, delPod, type Pod } from "../helpers/pods.js";
import { reach, stopPeers } from "../helpers/traffic.js";

const PORT = 7413;
const A1 = { id: `sn-iso-a-${process.pid}`, orgId: "org-iso-a", projectId: "proj-iso-a", cidr: "10.213.40.0/24", gatewayIp: "10.213.40.1" };
const B1 = { id: `sn-iso-b-${process.pid}`, orgId: "org-iso-b", projectId: "proj-iso-b", cidr: "10.213.41.0/24", gatewayIp: "10.213.41.1" };
const ALL = { icmp: true, tcp: true, udp: true };
const NONE = { icmp: false, tcp: false, udp: false };
let fx: Fixture;
const pods: Record<string, Pod> = {};

before(async () => {
  ensureBuilt();
  ensureOvn();
  fx = await startFixture([A1, B1], { ovn: { nbDb: OVN_NB, prefix: `i${process.pid}` } });
  for (const [tag, s] of [["ax", A1], ["ay", A1], ["bx", B1], ["by", B1]] as const) pods[tag] = await addPod(fx, `iso${tag}`, s, PORT);
  await waitBound(Object.values(pods).map((p) => p.port.id));
});

after(async () => {
  await stopPeers();
  for (const p of Object.values(pods)) await delPod(fx, p).catch(() => undefined);
  await deleteAllNetns();
  for (const p of Object.values(pods)) await sh("ip", "link", "del", p.host).catch(() => undefined);
  await fx?.close();
});

const ipIn = (p: Pod, ...args: string[]): Promise<string> => sh("ip", "-n", p.ns, ...args);

/** Puts `mac`/`ip` on the pod's eth0 (on-link /24, default route via `gw`), as a tenant could from inside. */
async function forge(p: Pod, mac: string, ip: string, gw: string): Promise<void> {
  await ipIn(p, "link", "set", "eth0", "address", mac);
  await ipIn(p, "addr", "flush", "dev", "eth0");
  await ipIn(p, "addr", "add", `${ip}/24`, "dev", "eth0");
  await ipIn(p, "route", "replace", "default", "via", gw, "dev", "eth0");
}

const restore = (p: Pod): Promise<void> => forge(p, p.port.macAddress, p.port.ipAddress, p.subnet.gatewayIp!);

describe("OVN: tenant isolation and port security", () => {
  test("two tenants' pods reach nothing of each other; each reaches its own", async () => {
    const { ax, ay, bx, by } = pods as Record<string, Pod>;
    const [own, across, gw] = await Promise.all([
      Promise.all([reach(ax!.ns, ay!.port.ipAddress, PORT), reach(bx!.ns, by!.port.ipAddress, PORT)]),
      Promise.all([reach(bx!.ns, ax!.port.ipAddress, PORT), reach(ax!.ns, bx!.port.ipAddress, PORT), reach(ay!.ns, by!.port.ipAddress, PORT)]),
      inNetns(bx!.ns, "busybox", "ping", "-c", "1", "-W", "2", A1.gatewayIp),
    ]);
    assert.deepEqual(own, [ALL, ALL], "within a tenant: ICMP, TCP and UDP");
    assert.deepEqual(across, [NONE, NONE, NONE], "across tenants: nothing");
    assert.notEqual(gw.code, 0, "not even the other tenant's gateway");
  });

  test("a source IP or MAC forged inside a pod gets nothing across tenants", async () => {
    const { ax, ay, bx, by } = pods as Record<string, Pod>;
    // Tenant B's pod takes tenant A's pod ay's IP, on A's subnet, and sends straight to ax's MAC.
    await forge(bx!, bx!.port.macAddress, ay!.port.ipAddress, A1.gatewayIp);
    await ipIn(bx!, "neigh", "replace", ax!.port.ipAddress, "lladdr", ax!.port.macAddress, "dev", "eth0");
    assert.deepEqual(await reach(bx!.ns, ax!.port.ipAddress, PORT), NONE, "forged source IP");
    await forge(bx!, ay!.port.macAddress, ay!.port.ipAddress, A1.gatewayIp);
    assert.deepEqual(await reach(bx!.ns, ax!.port.ipAddress, PORT), NONE, "forged source IP and MAC");
    // Its own IP, routed through its own gateway, but ay's MAC.
    await forge(bx!, ay!.port.macAddress, bx!.port.ipAddress, B1.gatewayIp);
    assert.deepEqual(await reach(bx!.ns, ax!.port.ipAddress, PORT), NONE, "forged source MAC");
    await restore(bx!);
    await ipIn(bx!, "neigh", "flush", "dev", "eth0");
    assert.deepEqual(await reach(bx!.ns, by!.port.ipAddress, PORT), ALL, "restored, it talks to its own tenant again");
  });

  test("port security: a pod sends nothing with an address NovaNET did not give it, even in its own subnet", async () => {
    const { ax, ay } = pods as Record<string, Pod>;
    await forge(ay!, ay!.port.macAddress, "10.213.40.200", A1.gatewayIp); // a free address of its own subnet
    assert.deepEqual(await reach(ay!.ns, ax!.port.ipAddress, PORT), NONE, "an IP it was not given");
    await forge(ay!, "02:de:ad:be:ef:01", ay!.port.ipAddress, A1.gatewayIp);
    assert.deepEqual(await reach(ay!.ns, ax!.port.ipAddress, PORT), NONE, "a MAC it was not given");
    await restore(ay!);
    await ipIn(ax!, "neigh", "flush", "dev", "eth0"); // ax may have learnt the forged MAC for ay's IP
    assert.deepEqual(await reach(ay!.ns, ax!.port.ipAddress, PORT), ALL, "with its own addresses again");
  });
});
