// OVS mode on the userspace datapath: host veths become ports of the
// integration bridge with external_ids:iface-id=<NovaNET port id>; two pods of
// one subnet ping each other and the gateway (an internal port standing in for
// OVN's router). A bridge of the test's own, forwarding without OVN (br-int
// is ovn-controller's: ovn.test.ts).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ensureBuilt } from "../helpers/build.js";
import { sh } from "../helpers/exec.js";
import { createNetns, deleteAllNetns, ping } from "../helpers/netns.js";
import { startFixture, type Fixture } from "../helpers/novanet.js";
import { OVSDB, addGatewayPort, addTestBridge, delTestBridge, ensureOvs, ifaceId, ovsPorts } from "../helpers/ovs.js";
import { describeRun, verb } from "../helpers/plugin.js";
import { assertResultShape } from "../helpers/shapes.js";
import { hostVethName } from "../../src/plumbing/names.js";

const SUBNET = `sn-ovs-${process.pid}`;
const GW_PORT = `nvtgw${process.pid % 100000}`;
const BRIDGE = `nvtbr${process.pid % 100000}`;
let fx: Fixture;
const made: string[] = [];

before(async () => {
  ensureBuilt();
  ensureOvs();
  fx = await startFixture([{ id: SUBNET, orgId: "org-o", projectId: "proj-o", cidr: "10.213.2.0/24", gatewayIp: "10.213.2.1" }]);
  await addTestBridge(BRIDGE);
  await addGatewayPort(GW_PORT, "10.213.2.1/24", BRIDGE);
});

after(async () => {
  await deleteAllNetns();
  await delTestBridge(BRIDGE); // its ports with it, the gateway's internal port included
  for (const p of made) await sh("ip", "link", "del", p).catch(() => undefined);
  await fx?.close();
});

describe("OVS mode (userspace datapath)", () => {
  test("ports carry the NovaNET iface-id; pods ping each other and the gateway", async () => {
    const conf = fx.conf({ mode: "ovs", ovsdb: OVSDB, bridge: BRIDGE, cniVersion: "1.1.0" });
    const pods = [await createNetns("ova"), await createNetns("ovb")];
    const results = [];
    for (const [i, ns] of pods.entries()) {
      made.push(hostVethName(`ovs-ctr-${i}`, "eth0"));
      const r = await verb("ADD", conf, `ovs-ctr-${i}`, ns.path);
      assert.equal(r.code, 0, describeRun(r));
      assertResultShape(r.json, "1.1.0");
      results.push(r.json);
    }
    const ports = await ovsPorts(BRIDGE);
    for (const [i] of pods.entries()) {
      const host = hostVethName(`ovs-ctr-${i}`, "eth0");
      assert.ok(ports.includes(host), `${host} is a port of the bridge`);
      const np = fx.novanet.ports().find((p) => p.deviceId === `ovs-ctr-${i}`);
      assert.ok(np);
      assert.equal(await ifaceId(host), np.id, "iface-id is the NovaNET port id");
      assert.match(await sh("ip", "-n", pods[i]!.name, "-br", "addr", "show", "dev", "eth0"), new RegExp(`${np.ipAddress.replace(/\./g, "\\.")}/24`));
    }
    const [pa, pb] = [0, 1].map((i) => fx.novanet.ports().find((p) => p.deviceId === `ovs-ctr-${i}`)!);
    assert.ok(await ping(pods[0]!.name, pb!.ipAddress), "pod 0 pings pod 1 through OVS");
    assert.ok(await ping(pods[1]!.name, pa!.ipAddress), "pod 1 pings pod 0 through OVS");
    assert.ok(await ping(pods[0]!.name, "10.213.2.1"), "pod 0 pings the gateway");

    const chk = await verb("CHECK", { ...conf, prevResult: results[0] }, "ovs-ctr-0", pods[0]!.path);
    assert.equal(chk.code, 0, describeRun(chk));

    for (const [i, ns] of pods.entries()) {
      const d = await verb("DEL", conf, `ovs-ctr-${i}`, ns.path);
      assert.equal(d.code, 0, describeRun(d));
    }
    const after = await ovsPorts(BRIDGE);
    for (const h of made) assert.ok(!after.includes(h), `${h} removed from the bridge`);
    assert.equal(fx.novanet.ports().length, 0);
  });
});
