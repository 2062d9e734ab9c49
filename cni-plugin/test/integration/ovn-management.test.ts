// novanet on OVN with the node management port (plugin: plumbing/management.ts,
// plumbing/ovn.ts; NovaNET: stand-ins/src/novanet/ovn-mgmt.ts): ADD returns
// only once ovn-controller has installed the port's flows, the first ADD makes
// the management port, the host reaches pods of every tenant over it (TCP, as
// the agent's probes do), tenants still reach nothing of each other with it
// there, and ADD times out cleanly, leaving nothing, when OVN never binds a port.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { hostname } from "node:os";
import { ensureBuilt } from "../helpers/build.js";
import { exec, sh } from "../helpers/exec.js";
import { createNetns, deleteAllNetns, deleteNetns, inNetns } from "../helpers/netns.js";
import { startFixture, type Fixture } from "../helpers/novanet.js";
import { OVN_NB, ensureOvn, nbGet, nbctl, portBinding, systemId } from "../helpers/ovn.js";
import { OVSDB, ifaceId, ovsPorts, vsctl } from "../helpers/ovs.js";
import { describeRun, verb } from "../helpers/plugin.js";
import { reach, startEchoPeer, stopPeers } from "../helpers/traffic.js";
import type { SubnetInput } from "../../../stand-ins/src/novanet/store.js";
import { MANAGEMENT_TENANT } from "../../../stand-ins/src/novanet/ovn-mgmt.js";
import { hostVethName } from "../../src/plumbing/names.js";

const PORT = 7414;
const MP = `nvmp${process.pid % 10000}`;
const MGMT_ID = `mgmt-${process.pid}`;
const A1 = { id: `sn-mp-a-${process.pid}`, orgId: "org-mp-a", projectId: "proj-mp-a", cidr: "10.213.60.0/24", gatewayIp: "10.213.60.1" };
const B1 = { id: `sn-mp-b-${process.pid}`, orgId: "org-mp-b", projectId: "proj-mp-b", cidr: "10.213.61.0/24", gatewayIp: "10.213.61.1" };
const ALL = { icmp: true, tcp: true, udp: true };
const NONE = { icmp: false, tcp: false, udp: false };
const PEER = new URL("../helpers/traffic-peer.mjs", import.meta.url).pathname;
let fx: Fixture;
let plain: Fixture | undefined;

interface Pod { ns: string; containerId: string; subnet: SubnetInput; ip: string; mac: string; host: string }
const pods: Record<string, Pod> = {};

function conf(f: Fixture, s: SubnetInput, ovn: Record<string, unknown>): Record<string, unknown> {
  return f.conf({ mode: "ovs", ovsdb: OVSDB, org_id: s.orgId, project_id: s.projectId, subnet_id: s.id, ovn });
}
const ovnConf = { installed_timeout_ms: 10_000, management: { org_id: MANAGEMENT_TENANT.orgId, project_id: MANAGEMENT_TENANT.projectId, subnet_id: MGMT_ID, ifname: MP } };

/** `external_ids:ovn-installed` of an OVS interface, read from outside ("" when unset). */
async function installed(iface: string): Promise<string> {
  return (await vsctl("--if-exists", "get", "Interface", iface, "external_ids:ovn-installed")).trim().replace(/^"|"$/g, "");
}

/** ADD for a new netns in subnet `s`; asserts the port's flows are in as soon as ADD has returned. */
async function addPod(tag: string, s: SubnetInput): Promise<Pod> {
  const ns = await createNetns(tag);
  const containerId = `${tag}-${process.pid}`;
  const host = hostVethName(containerId, "eth0");
  const r = await verb("ADD", conf(fx, s, ovnConf), containerId, ns.path);
  assert.equal(r.code, 0, describeRun(r));
  // Read from outside right after ADD: no waiting of the test's own.
  assert.equal(await installed(host), "true", `${host}: ovn-installed when ADD returned`);
  assert.equal(await installed(MP), "true", `${MP}: ovn-installed when ADD returned`);
  const port = fx.novanet.ports().find((p) => p.deviceId === containerId)!;
  await startEchoPeer(ns.name, PORT);
  return (pods[tag] = { ns: ns.name, containerId, subnet: s, ip: port.ipAddress, mac: port.macAddress, host });
}

/** From the host netns, as the agent's probes and an operator's curl: the traffic peer's client, no `ip netns exec`. */
async function fromHost(proto: "tcp" | "udp", ip: string): Promise<boolean> {
  const args = proto === "tcp" ? ["tcp", ip, String(PORT), String(256 << 10), "5000"] : ["udp", ip, String(PORT), "1,1000", "2"];
  const r = await exec(process.execPath, [PEER, ...args], { env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
  return r.code === 0 && (JSON.parse(r.stdout) as { intact: boolean }).intact;
}

const mgmtPort = () => fx.novanet.ports().find((p) => p.subnetId === MGMT_ID);

before(async () => {
  ensureBuilt();
  ensureOvn();
  fx = await startFixture([A1, B1], { ovn: { nbDb: OVN_NB, prefix: `m${process.pid}` }, management: { id: MGMT_ID, cidr: "100.64.213.0/24", linkCidr: "100.65.213.0/24" } });
  await vsctl("--if-exists", "del-port", "br-int", MP);
  await addPod("ax", A1);
  await addPod("ay", A1);
  await addPod("bx", B1);
});

after(async () => {
  await stopPeers();
  for (const p of Object.values(pods)) {
    await verb("DEL", conf(fx, p.subnet, ovnConf), p.containerId, `/var/run/netns/${p.ns}`).catch(() => undefined);
    await exec("ip", ["link", "del", p.host]);
  }
  await deleteAllNetns();
  // The node's teardown: the management port's routes go with it.
  await exec("ovs-vsctl", [`--db=${OVSDB}`, "--timeout=10", "--if-exists", "del-port", "br-int", MP]);
  await fx?.close();
  await plain?.close();
});

describe("OVN: the node management port and waiting for ovn-installed", () => {
  test("the first ADD made the management port: a NovaNET port of this node, bound by OVN, on the host", async () => {
    const mp = mgmtPort();
    assert.ok(mp, "NovaNET has a port in the management subnet");
    assert.equal(mp.deviceId, `node:${hostname()}`);
    assert.equal(fx.novanet.ports().filter((p) => p.subnetId === MGMT_ID).length, 1, "one per node, though three pods were added");
    assert.ok((await ovsPorts()).includes(MP), `${MP} is a port of br-int`);
    assert.equal((await vsctl("get", "Interface", MP, "type")).trim(), "internal");
    assert.equal(await ifaceId(MP), mp.id, "its iface-id is the NovaNET port");
    assert.equal(await nbGet("Logical_Switch_Port", mp.id, "port_security"), `${mp.macAddress} ${mp.ipAddress}`);
    assert.deepEqual(await portBinding(mp.id), { up: true, chassis: await systemId() });
    const link = JSON.parse(await sh("ip", "-j", "addr", "show", "dev", MP)) as { address: string; operstate: string; addr_info: { family: string; local: string; prefixlen: number }[] }[];
    assert.equal(link[0]?.address, mp.macAddress, "the host end has the port's MAC (port security)");
    assert.deepEqual(link[0]?.addr_info.filter((a) => a.family === "inet").map((a) => `${a.local}/${a.prefixlen}`), [`${mp.ipAddress}/24`]);
    for (const s of [A1, B1]) {
      assert.match(await sh("ip", "route", "get", s.gatewayIp.replace(/\.1$/, ".9")), new RegExp(`via 100\\.64\\.213\\.1 dev ${MP} src ${mp.ipAddress.replace(/\./g, "\\.")}`), `host route to ${s.cidr}`);
    }
  });

  test("the host reaches pods of every tenant over TCP and UDP through it", async () => {
    for (const p of [pods.ax!, pods.bx!]) {
      assert.equal((await exec("ping", ["-c", "1", "-W", "2", p.ip])).code, 0, `ping ${p.ip}`);
      assert.equal(await fromHost("tcp", p.ip), true, `256 KiB over TCP to ${p.ip} and back`);
      assert.equal(await fromHost("udp", p.ip), true, `UDP to ${p.ip} and back`);
    }
  });

  test("tenant isolation holds with it: pods reach nothing of the other tenant, not even through the host", async () => {
    const { ax, ay, bx } = pods as Record<string, Pod>;
    const mp = mgmtPort()!;
    const [own, across] = await Promise.all([
      reach(ax!.ns, ay!.ip, PORT),
      Promise.all([reach(ax!.ns, bx!.ip, PORT), reach(bx!.ns, ax!.ip, PORT), reach(bx!.ns, ay!.ip, PORT)]),
    ]);
    assert.deepEqual(own, ALL, "within tenant A");
    assert.deepEqual(across, [NONE, NONE, NONE], "across tenants");
    // Pods reach the node's management address (the kubelet's node is reachable from pods too) ...
    assert.equal((await inNetns(ax!.ns, "busybox", "ping", "-c", "1", "-W", "2", mp.ipAddress)).code, 0, "pod to the host's management address");
    // ... but not tenant B's side of the management router, nor B's own link.
    const b = fx.novanet.ovn!.management!.linkAddresses(fx.novanet.ovn!.routerName(B1.orgId, B1.projectId));
    for (const ip of [b.mgmt, b.tenant]) assert.notEqual((await inNetns(ax!.ns, "busybox", "ping", "-c", "1", "-W", "2", ip)).code, 0, `pod A to ${ip}`);
    // Tenant A's pod sends to B's subnet with the host as its next hop, then as the host itself.
    await sh("ip", "-n", ax!.ns, "route", "replace", B1.cidr, "via", mp.ipAddress, "dev", "eth0", "onlink");
    assert.deepEqual(await reach(ax!.ns, bx!.ip, PORT), NONE, "routed at the host's management address");
    await sh("ip", "-n", ax!.ns, "route", "del", B1.cidr);
    await sh("ip", "-n", ax!.ns, "link", "set", "eth0", "address", mp.macAddress);
    await sh("ip", "-n", ax!.ns, "addr", "replace", `${mp.ipAddress}/24`, "dev", "eth0");
    await sh("ip", "-n", ax!.ns, "route", "replace", B1.cidr, "via", A1.gatewayIp, "dev", "eth0", "src", mp.ipAddress);
    assert.deepEqual(await reach(ax!.ns, bx!.ip, PORT), NONE, "with the host's management MAC and IP as its source");
    await sh("ip", "-n", ax!.ns, "route", "del", B1.cidr);
    await sh("ip", "-n", ax!.ns, "addr", "del", `${mp.ipAddress}/24`, "dev", "eth0");
    await sh("ip", "-n", ax!.ns, "link", "set", "eth0", "address", ax!.mac);
    await sh("ip", "-n", ax!.ns, "neigh", "flush", "dev", "eth0");
    assert.deepEqual(await reach(ax!.ns, ay!.ip, PORT), ALL, "restored, it reaches its own tenant again");
  });

  test("the management router is no transit between tenants, even given a route", async () => {
    const { ax, bx } = pods as Record<string, Pod>;
    const ovn = fx.novanet.ovn!;
    const lrA = ovn.routerName(A1.orgId, A1.projectId);
    const lrB = ovn.routerName(B1.orgId, B1.projectId);
    // A mistake NovaNET never makes: each tenant router given the other's subnet over its management link.
    await nbctl("--wait=hv", "lr-route-add", lrA, B1.cidr, ovn.management!.linkAddresses(lrA).mgmt,
      "--", "lr-route-add", lrB, A1.cidr, ovn.management!.linkAddresses(lrB).mgmt);
    try {
      assert.deepEqual(await reach(ax!.ns, bx!.ip, PORT), NONE, "the management router's policy drops it");
    } finally {
      await nbctl("--wait=hv", "lr-route-del", lrA, B1.cidr, "--", "lr-route-del", lrB, A1.cidr);
    }
    assert.equal(await fromHost("tcp", bx!.ip), true, "the host still reaches B");
  });

  test("a management port that is gone is made again by the next ADD, with the same NovaNET port", async () => {
    const before = mgmtPort()!;
    await vsctl("del-port", "br-int", MP);
    assert.ok(!existsSync(`/sys/class/net/${MP}`), "gone with its routes");
    const az = await addPod("az", A1); // asserts ovn-installed on both
    assert.deepEqual(fx.novanet.ports().filter((p) => p.subnetId === MGMT_ID).map((p) => p.id), [before.id]);
    assert.equal(await fromHost("tcp", az.ip), true, "the host reaches the new pod");
    assert.equal(await fromHost("tcp", pods.bx!.ip), true, "and tenant B's pod: routes come back for every subnet with a pod here");
  });

  test("NovaNET refuses a subnet overlapping another tenant's while the management network is on", async () => {
    await assert.rejects(fx.novanet.addSubnet({ id: `sn-mp-c-${process.pid}`, orgId: "org-mp-c", projectId: "proj-mp-c", cidr: "10.213.60.128/25" }),
      /overlaps subnet sn-mp-a-\d+ \(10\.213\.60\.0\/24\)/);
  });

  test("ADD gives up with a clear error when OVN never binds the port, and leaves nothing", async () => {
    // No OVN programming: br-int's ovn-controller never finds a logical switch port for it.
    const C1 = { id: `sn-mp-c1-${process.pid}`, orgId: "org-mp-c", projectId: "proj-mp-c", cidr: "10.213.62.0/24" };
    plain = await startFixture([C1]);
    const ns = await createNetns("unbound");
    const containerId = `unbound-${process.pid}`;
    const host = hostVethName(containerId, "eth0");
    const r = await verb("ADD", conf(plain, C1, { installed_timeout_ms: 1500 }), containerId, ns.path);
    assert.notEqual(r.code, 0, describeRun(r));
    const err = r.json as { code: number; msg: string };
    assert.equal(err.code, 11, describeRun(r));
    const portId = /iface-id (port-[\w-]+)/.exec(err.msg)?.[1];
    assert.ok(portId, `the message names the iface-id: ${err.msg}`);
    assert.deepEqual([plain.novanet.calls.get("CreatePort"), plain.novanet.calls.get("DeletePort")], [1, 1], "the port was made, then released");
    assert.match(err.msg, new RegExp(`^OVN did not install flows for pod port ${host} \\(iface-id ${portId}\\) within 1500 ms$`));
    assert.equal((await exec("ip", ["link", "show", host])).code, 1, "no host veth left");
    assert.ok(!(await ovsPorts()).includes(host), "no OVS port left");
    assert.equal((await exec("ip", ["-n", ns.name, "link", "show", "eth0"])).code, 1, "no pod end left");
    assert.deepEqual(plain.novanet.ports(), [], "the NovaNET port released");
    assert.deepEqual(existsSync(plain.cacheDir) ? readdirSync(plain.cacheDir) : [], [], "no cached result");
    await deleteNetns(ns.name);
  });
});
