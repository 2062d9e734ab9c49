// Bridge mode end to end: two pods of one subnet get NovaNET addresses, ping
// each other and the gateway through the subnet's Linux bridge; repeated ADD
// is stable; CHECK notices tampering; DEL releases the port and the veth.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { ensureBuilt } from "../helpers/build.js";
import { exec, sh } from "../helpers/exec.js";
import { createNetns, deleteAllNetns, deleteVethsOf, inNetns, ping } from "../helpers/netns.js";
import { startFixture, type Fixture } from "../helpers/novanet.js";
import { describeRun, verb } from "../helpers/plugin.js";
import { assertErrorShape, assertResultShape } from "../helpers/shapes.js";
import { bridgeName, hostVethName } from "../../src/plumbing/names.js";

const SUBNET = `sn-br-${process.pid}`;
const BR = bridgeName("nvbr", SUBNET);
let fx: Fixture;

before(async () => {
  ensureBuilt();
  fx = await startFixture([{ id: SUBNET, orgId: "org-a", projectId: "proj-a", cidr: "10.213.1.0/24", gatewayIp: "10.213.1.1", dnsServers: ["10.213.1.53"], dnsSearch: ["svc.cluster.local"], mtu: 1450 }]);
});

after(async () => {
  await deleteAllNetns();
  await deleteVethsOf("novanet-test");
  await exec("ip", ["link", "del", BR]);
  await fx?.close();
});

describe("bridge mode", () => {
  test("two pods ping each other and the gateway; DEL releases everything", async () => {
    const a = await createNetns("bra");
    const b = await createNetns("brb");
    const conf = fx.conf();
    const ra = await verb("ADD", conf, "ctr-a", a.path);
    assert.equal(ra.code, 0, describeRun(ra));
    assertResultShape(ra.json, "1.0.0");
    const rb = await verb("ADD", conf, "ctr-b", b.path);
    assert.equal(rb.code, 0, describeRun(rb));

    const ports = fx.novanet.ports();
    assert.equal(ports.length, 2);
    const pa = ports.find((p) => p.deviceId === "ctr-a");
    const pb = ports.find((p) => p.deviceId === "ctr-b");
    assert.ok(pa && pb);
    assert.notEqual(pa.ipAddress, pb.ipAddress);
    assert.notEqual(pa.ipAddress, "10.213.1.1", "gateway is never handed out");

    // The result reflects NovaNET, not guesses.
    const ips = ra.json.ips as { address: string; gateway: string }[];
    assert.deepEqual(ips.map((i) => [i.address, i.gateway]), [[`${pa.ipAddress}/24`, "10.213.1.1"]]);
    assert.deepEqual(ra.json.dns, { nameservers: ["10.213.1.53"], search: ["svc.cluster.local"] });
    assert.deepEqual(ra.json.routes, [{ dst: "0.0.0.0/0", gw: "10.213.1.1" }]);

    // From outside: addresses, MAC, MTU, route in the netns; veth in the bridge.
    const link = JSON.parse(await sh("ip", "-n", a.name, "-j", "addr", "show", "dev", "eth0")) as { address: string; mtu: number; addr_info: { local: string }[] }[];
    assert.equal(link[0]?.address, pa.macAddress);
    assert.equal(link[0]?.mtu, 1450);
    assert.ok(link[0]?.addr_info.some((x) => x.local === pa.ipAddress));
    assert.match(await sh("ip", "-n", a.name, "route", "show", "default"), /default via 10\.213\.1\.1 dev eth0/);
    const hostA = hostVethName("ctr-a", "eth0");
    const master = JSON.parse(await sh("ip", "-j", "link", "show", hostA)) as { master: string }[];
    assert.equal(master[0]?.master, BR);
    assert.match(await sh("ip", "-br", "addr", "show", "dev", BR), /10\.213\.1\.1\/24/);

    assert.ok(await ping(a.name, pb.ipAddress), "pod a pings pod b");
    assert.ok(await ping(b.name, pa.ipAddress), "pod b pings pod a");
    assert.ok(await ping(a.name, "10.213.1.1"), "pod a pings its gateway");

    // Repeated ADD: same result, no second port.
    const again = await verb("ADD", conf, "ctr-a", a.path);
    assert.equal(again.code, 0, describeRun(again));
    assert.deepEqual(again.json, ra.json);
    assert.equal(fx.novanet.ports().length, 2);

    // CHECK passes, then fails once the address is gone.
    const ok = await verb("CHECK", { ...conf, prevResult: ra.json }, "ctr-a", a.path);
    assert.equal(ok.code, 0, describeRun(ok));
    assert.equal(ok.stdout, "");
    await sh("ip", "-n", a.name, "addr", "flush", "dev", "eth0");
    const bad = await verb("CHECK", { ...conf, prevResult: ra.json }, "ctr-a", a.path);
    assert.notEqual(bad.code, 0);
    assertErrorShape(bad.json, 106, "1.0.0");

    for (const [id, ns] of [["ctr-a", a], ["ctr-b", b]] as const) {
      const d = await verb("DEL", { ...conf, prevResult: ra.json }, id, ns.path);
      assert.equal(d.code, 0, describeRun(d));
      assert.equal(d.stdout, "");
      assert.ok(!existsSync(`/sys/class/net/${hostVethName(id, "eth0")}`), "host veth removed");
      assert.ok(!existsSync(`${fx.cacheDir}/novanet-test-${id}-eth0`), "cache entry removed");
    }
    assert.equal(fx.novanet.ports().length, 0, "ports released in NovaNET");
    const left = await inNetns(a.name, "ip", "-br", "link");
    assert.doesNotMatch(left.stdout, /eth0/);

    // DEL again (already gone) still succeeds.
    const d2 = await verb("DEL", conf, "ctr-a", a.path);
    assert.equal(d2.code, 0, describeRun(d2));
  });
});
