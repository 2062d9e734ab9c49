// OVS mode moves real TCP and UDP bytes between pods, not only ping: on the
// userspace datapath (as the node stack runs OVS) a pod end that keeps TX
// checksum offload sends segments OVS forwards with unfinished checksums, and
// the other pod drops them (plumbing/offload.ts). Echoed both ways, so both
// pods' sending is covered. Pod A's netns is a /run/netns path (as containerd
// passes it), pod B's a /proc/PID/ns/net path (the plugin's nsenter path).
// A bridge of the test's own on the same datapath: plain OVS forwarding, no
// OVN (ovn.test.ts moves bytes through OVN on br-int).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ensureBuilt } from "../helpers/build.js";
import { sh } from "../helpers/exec.js";
import { createNetns, deleteAllNetns, ping } from "../helpers/netns.js";
import { startFixture, type Fixture } from "../helpers/novanet.js";
import { OVSDB, addTestBridge, delTestBridge, ensureOvs, ovsPorts } from "../helpers/ovs.js";
import { describeRun, verb } from "../helpers/plugin.js";
import { startEchoPeer, stopPeers, tcpEcho, udpEcho } from "../helpers/traffic.js";
import { hostVethName } from "../../src/plumbing/names.js";

const SUBNET = `sn-ovst-${process.pid}`;
const PORT = 7411;
const BRIDGE = `nvtbr${process.pid % 100000}`;
let fx: Fixture;
const made: string[] = [];

before(async () => {
  ensureBuilt();
  ensureOvs();
  await addTestBridge(BRIDGE);
  fx = await startFixture([{ id: SUBNET, orgId: "org-t", projectId: "proj-t", cidr: "10.213.4.0/24", gatewayIp: "10.213.4.1" }]);
});

after(async () => {
  await stopPeers();
  await deleteAllNetns();
  await delTestBridge(BRIDGE);
  for (const p of made) await sh("ip", "link", "del", p).catch(() => undefined);
  await fx?.close();
});

describe("OVS mode: TCP and UDP between pods (userspace datapath)", () => {
  test("bytes sent over TCP and UDP arrive intact and come back", async () => {
    const conf = fx.conf({ mode: "ovs", ovsdb: OVSDB, bridge: BRIDGE });
    const pods = [await createNetns("ovta"), await createNetns("ovtb")];
    const [nsA, nsB] = [pods[0]!.name, pods[1]!.name];
    // Listening on the wildcard address before pod B has an interface; its pid names B's netns.
    const peerB = await startEchoPeer(nsB, PORT);
    const paths = [pods[0]!.path, `/proc/${peerB}/ns/net`];
    for (const [i, path] of paths.entries()) {
      made.push(hostVethName(`ovst-ctr-${i}`, "eth0"));
      const r = await verb("ADD", conf, `ovst-ctr-${i}`, path);
      assert.equal(r.code, 0, describeRun(r));
    }
    const [a, b] = [0, 1].map((i) => fx.novanet.ports().find((p) => p.deviceId === `ovst-ctr-${i}`)!);
    assert.ok(await ping(nsA, b!.ipAddress), "pods ping each other (L2 through OVS)");

    const tcp = await tcpEcho(nsA, b!.ipAddress, PORT, 1 << 20);
    assert.deepEqual(tcp, { sent: 1 << 20, echoed: 1 << 20, intact: true }, "1 MiB over TCP, echoed back byte for byte");
    // Tiny, mid-size and the largest unfragmented datagram at MTU 1500 (1472 + 28 header bytes).
    const udp = await udpEcho(nsA, b!.ipAddress, PORT, [1, 512, 1472]);
    assert.deepEqual(udp.echoed, [1, 512, 1472], "every UDP datagram echoed back unchanged");
    await stopPeers();

    // And the other way round: pod A serves, pod B sends.
    await startEchoPeer(nsA, PORT);
    assert.equal((await tcpEcho(nsB, a!.ipAddress, PORT, 65_536)).intact, true, "TCP from pod B to pod A");
    assert.equal((await udpEcho(nsB, a!.ipAddress, PORT, [1000])).intact, true, "UDP from pod B to pod A");
    await stopPeers();

    for (const [i, ns] of pods.entries()) {
      const d = await verb("DEL", conf, `ovst-ctr-${i}`, ns.path); // DEL needs no netns: B's /proc path is gone by now
      assert.equal(d.code, 0, describeRun(d));
    }
    const left = await ovsPorts(BRIDGE);
    for (const h of made) assert.ok(!left.includes(h), `${h} removed from the bridge`);
    assert.equal(fx.novanet.ports().length, 0);
  });
});
