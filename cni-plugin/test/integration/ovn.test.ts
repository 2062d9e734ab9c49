// novanet in ovs mode with real OVN (scripts/node-stack/ovn.sh) and the NovaNET
// stand-in programming it: each pod's port is a logical switch port bound by
// ovn-controller; pods of a subnet talk over TCP/UDP and reach their gateway,
// the OVN router port; a tenant's subnets reach each other through its router;
// a port deleted in NovaNET stops forwarding as soon as the call returns.
// Tenant isolation: ovn-isolation.test.ts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connectNovanet } from "../../src/novanet/client.js";
import { sh } from "../helpers/exec.js";
import { ensureBuilt } from "../helpers/build.js";
import { deleteAllNetns, inNetns } from "../helpers/netns.js";
import { startFixture, type Fixture } from "../helpers/novanet.js";
import { OVN_NB, ensureOvn, nbGet, nbctl, portBinding, systemId, waitBound } from "../helpers/ovn.js";
import { ovsPorts } from "../helpers/ovs.js";
import { addPod, delPod, type Pod } from "../helpers/pods.js";
import { reach, stopPeers, tcpEcho, udpEcho } from "../helpers/traffic.js";

const PORT = 7412;
const A = { orgId: "org-ovn-a", projectId: "proj-ovn-a" };
const A1 = { id: `sn-ovn-a1-${process.pid}`, ...A, cidr: "10.213.30.0/24", gatewayIp: "10.213.30.1" };
const A2 = { id: `sn-ovn-a2-${process.pid}`, ...A, cidr: "10.213.31.0/24", gatewayIp: "10.213.31.1" };
let fx: Fixture;
let closed = false;
const pods: Record<string, Pod> = {};

before(async () => {
  ensureBuilt();
  ensureOvn();
  fx = await startFixture([A1, A2], { ovn: { nbDb: OVN_NB, prefix: `t${process.pid}` } });
  for (const [tag, s] of [["x", A1], ["y", A1], ["z", A1], ["w", A2]] as const) pods[tag] = await addPod(fx, `ovn${tag}`, s, PORT);
  await waitBound(Object.values(pods).map((p) => p.port.id));
});

after(async () => {
  await stopPeers();
  for (const p of Object.values(pods)) await delPod(fx, p).catch(() => undefined);
  await deleteAllNetns();
  for (const p of Object.values(pods)) await sh("ip", "link", "del", p.host).catch(() => undefined);
  if (!closed) await fx?.close();
});

describe("OVN: NovaNET ports as logical switch ports", () => {
  test("each port is a logical switch port with its MAC and IP, bound by ovn-controller on this chassis", async () => {
    const ovn = fx.novanet.ovn!;
    const chassis = await systemId();
    for (const p of Object.values(pods)) {
      const mine = `${p.port.macAddress} ${p.port.ipAddress}`;
      assert.equal(await nbGet("Logical_Switch_Port", p.port.id, "addresses"), mine, "addresses");
      assert.equal(await nbGet("Logical_Switch_Port", p.port.id, "port_security"), mine, "port_security");
      const sw = (await nbctl("lsp-get-ls", p.port.id)).trim();
      assert.match(sw, new RegExp(`\\(${ovn.switchName(p.subnet.id!).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\)$`), "on its subnet's switch");
      assert.deepEqual(await portBinding(p.port.id), { up: true, chassis }, "Port_Binding up, on this node's chassis");
    }
    // One router for the tenant, holding both subnets' gateways.
    const lrps = (await nbctl("--bare", "--columns=name", "find", "Logical_Router_Port", `external_ids:novanet-owner=t${process.pid}`)).split("\n").filter(Boolean).sort();
    assert.deepEqual(lrps, [ovn.routerPortName(A1.id), ovn.routerPortName(A2.id)].sort());
    const lr = ovn.routerName(A.orgId, A.projectId);
    for (const s of [A1, A2]) {
      assert.match(await nbctl("lrp-get-enabled", ovn.routerPortName(s.id)), /enabled/);
      const rp = (await nbctl("--bare", "--columns=mac,networks", "list", "Logical_Router_Port", ovn.routerPortName(s.id))).trim().split("\n").filter(Boolean);
      assert.deepEqual(rp, [ovn.gatewayMac(fx.novanet.subnets().find((x) => x.id === s.id)!), `${s.gatewayIp}/24`]);
    }
    assert.equal((await nbctl("lrp-list", lr)).trim().split("\n").length, 2, `${lr} has the two subnets' ports`);
  });

  test("pods of one subnet talk over TCP and UDP; the default route is the OVN router port", async () => {
    const [x, y] = [pods.x!, pods.y!];
    const gwMac = fx.novanet.ovn!.gatewayMac(fx.novanet.subnets().find((s) => s.id === A1.id)!);
    assert.match((await sh("ip", "-n", x.ns, "route", "show", "default")), /^default via 10\.213\.30\.1 dev eth0/);
    assert.equal((await inNetns(x.ns, "busybox", "ping", "-c", "1", "-W", "2", A1.gatewayIp)).code, 0, "pod pings its gateway");
    assert.match(await sh("ip", "-n", x.ns, "neigh", "show", A1.gatewayIp), new RegExp(`lladdr ${gwMac}`), "the gateway answers with the router port's MAC");
    assert.deepEqual(await tcpEcho(x.ns, y.port.ipAddress, PORT, 256 << 10), { sent: 256 << 10, echoed: 256 << 10, intact: true });
    assert.equal((await udpEcho(y.ns, x.port.ipAddress, PORT, [1, 1000, 1422])).intact, true);
  });

  test("subnets of one tenant reach each other through the tenant's router", async () => {
    const [x, w] = [pods.x!, pods.w!];
    const ping = await inNetns(w.ns, "busybox", "ping", "-c", "1", "-W", "2", x.port.ipAddress);
    assert.equal(ping.code, 0, ping.stderr);
    assert.match(ping.stdout, /ttl=63/, "one routed hop (the logical router decrements TTL)");
    assert.deepEqual(await tcpEcho(x.ns, w.port.ipAddress, PORT, 256 << 10), { sent: 256 << 10, echoed: 256 << 10, intact: true });
    assert.equal((await udpEcho(w.ns, x.port.ipAddress, PORT, [1, 1000])).intact, true);
  });

  test("a port deleted in NovaNET forwards nothing once DeletePort has returned", async () => {
    const [x, z] = [pods.x!, pods.z!];
    assert.deepEqual(await reach(x.ns, z.port.ipAddress, PORT), { icmp: true, tcp: true, udp: true }, "before: everything gets through");
    const api = connectNovanet({ server_addr: fx.novanet.address, token_file: fx.tokenFile, timeout_ms: 15_000 });
    try {
      await api.deletePort(A, z.port.id);
    } finally {
      api.close();
    }
    assert.deepEqual(await reach(x.ns, z.port.ipAddress, PORT), { icmp: false, tcp: false, udp: false }, "to the deleted port");
    assert.equal((await inNetns(z.ns, "busybox", "ping", "-c", "1", "-W", "2", A1.gatewayIp)).code, 1, "from it, even to its gateway");
    assert.equal(await portBinding(z.port.id), undefined, "no Port_Binding left");
    assert.equal(await nbGet("Logical_Switch_Port", z.port.id, "name"), "", "no logical switch port left");
  });

  test("DEL releases the ports; the stand-in leaves nothing in OVN when it stops", async () => {
    await stopPeers();
    for (const [tag, p] of Object.entries(pods)) {
      await delPod(fx, p);
      delete pods[tag];
      assert.equal(await nbGet("Logical_Switch_Port", p.port.id, "name"), "", `${p.port.id} gone from OVN`);
      assert.ok(!(await ovsPorts()).includes(p.host), `${p.host} gone from br-int`);
    }
    await fx.close();
    closed = true;
    const left = await nbctl("--bare", "--columns=name", "find", "Logical_Switch", `external_ids:novanet-owner=t${process.pid}`);
    const routers = await nbctl("--bare", "--columns=name", "find", "Logical_Router", `external_ids:novanet-owner=t${process.pid}`);
    assert.equal(left.trim() + routers.trim(), "", "no switch or router of this stand-in is left");
  });
});
