// node.ip and node.taints: the config's checks (what `config check` catches),
// the start-time check that node.ip is this host's, the default-route choice,
// and what the Node object registers.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { NetworkInterfaceInfo } from "node:os";
import { errorCode } from "@plasmacloud/common/errors";
import { buildConfig } from "../../src/config/schema";
import { defaultNodeIP, defaultRouteInterface, resolveNodeIP } from "../../src/node/address";
import { nodeObject } from "../../src/node/controller";
import type { StaticFacts } from "../../src/node/readings";

const bad = (layer: unknown, pattern: RegExp): void => {
  assert.throws(() => buildConfig(layer), (err: unknown) => errorCode(err) === "InvalidArgument" && pattern.test((err as Error).message));
};

test("node settings: absent by default; ip and taints are read, value optional", () => {
  assert.deepEqual(buildConfig({}).node, { ip: "", taints: [] });
  const c = buildConfig({ node: { ip: "fd00::2", taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }, { key: "maintenance", effect: "NoExecute" }] } });
  assert.equal(c.node.ip, "fd00::2");
  assert.deepEqual(c.node.taints, [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }, { key: "maintenance", value: "", effect: "NoExecute" }]);
});

test("node.ip: a malformed or unusable address is named", () => {
  bad({ node: { ip: "10.0.0" } }, /'node\.ip': '10\.0\.0' is not an IPv4 or IPv6 address/);
  bad({ node: { ip: "eth0" } }, /'node\.ip': 'eth0' is not an IPv4 or IPv6 address/);
  bad({ node: { ip: 10 } }, /'node\.ip': must be a string/);
  bad({ node: { ip: "127.0.0.1" } }, /'node\.ip': '127\.0\.0\.1' is a loopback address/);
  bad({ node: { ip: "::1" } }, /loopback/);
  bad({ node: { ip: "224.0.0.1" } }, /multicast/);
  bad({ node: { ip: "fe80::1" } }, /link-local/);
  bad({ node: { ip: "169.254.1.1" } }, /link-local/);
  for (const ok of ["0.0.0.0", "::", "192.0.2.10", "2001:db8::1"]) assert.equal(buildConfig({ node: { ip: ok } }).node.ip, ok);
});

test("node.taints: each problem named by its field", () => {
  bad({ node: { taints: "a=b:NoSchedule" } }, /'node\.taints': must be a list of \{key, value, effect\}/);
  bad({ node: { taints: ["a=b:NoSchedule"] } }, /'node\.taints\[0\]': must be a mapping/);
  bad({ node: { taints: [{ key: "a", effect: "NoRun" }] } }, /'node\.taints\[0\]\.effect': 'NoRun' is not one of NoSchedule, PreferNoSchedule, NoExecute/);
  bad({ node: { taints: [{ key: "a" }] } }, /'node\.taints\[0\]\.effect': must be set/);
  bad({ node: { taints: [{ effect: "NoSchedule" }] } }, /'node\.taints\[0\]\.key': must be set/);
  bad({ node: { taints: [{ key: "a", effect: "NoSchedule", operator: "Exists" }] } }, /'node\.taints\[0\]\.operator': unknown field/);
  bad({ node: { taints: [{ key: "a", value: 1, effect: "NoSchedule" }] } }, /'node\.taints\[0\]\.value': must be a string/);
  bad({ node: { taints: [{ key: "not a key", effect: "NoSchedule" }] } }, /'node\.taints\[0\]\.key': 'not a key' is not a qualified name/);
  bad({ node: { taints: [{ key: "a", effect: "NoSchedule" }, { key: "a", value: "x", effect: "NoSchedule" }] } }, /'node\.taints\[1\]': a taint with key 'a' and effect NoSchedule is already listed/);
  bad({ node: { addresses: [] } }, /'node\.addresses': unknown field/);
});

const nic = (address: string, family: "IPv4" | "IPv6", internal = false): NetworkInterfaceInfo =>
  ({ address, family, internal, netmask: "", mac: "00:00:00:00:00:00", cidr: null, ...(family === "IPv6" ? { scopeid: 0 } : {}) }) as NetworkInterfaceInfo;
const ifaces = {
  lo: [nic("127.0.0.1", "IPv4", true), nic("::1", "IPv6", true)],
  eth0: [nic("10.1.0.5", "IPv4"), nic("fe80::1", "IPv6"), nic("fd00::5", "IPv6")],
  eth1: [nic("10.2.0.7", "IPv4"), nic("fd00:0:0:2::0007", "IPv6")],
};

test("resolveNodeIP: a host address is taken (in canonical form); any other refuses the start, naming node.ip", () => {
  const route = (f: 4 | 6) => (f === 4 ? "eth1" : "eth0");
  assert.equal(resolveNodeIP("10.1.0.5", ifaces, route), "10.1.0.5");
  assert.equal(resolveNodeIP("fd00:0:0:2::7", ifaces, route), "fd00:0:0:2::7");
  assert.equal(resolveNodeIP("fd00:0000::5", ifaces, route), "fd00::5");
  assert.throws(() => resolveNodeIP("10.9.9.9", ifaces, route), (err: unknown) => errorCode(err) === "InvalidArgument" && /config field 'node\.ip': 10\.9\.9\.9 is not assigned to any of this host's network interfaces that are up/.test((err as Error).message));
  // Unset, 0.0.0.0 and :: mean the default-route address of that family.
  assert.equal(resolveNodeIP("", ifaces, route), "10.2.0.7");
  assert.equal(resolveNodeIP("0.0.0.0", ifaces, route), "10.2.0.7");
  assert.equal(resolveNodeIP("::", ifaces, route), "fd00::5", "global, not link-local");
});

test("defaultNodeIP: the default-route interface's address, else any interface's, else loopback", () => {
  assert.equal(defaultNodeIP(4, ifaces, "eth1"), "10.2.0.7");
  assert.equal(defaultNodeIP(4, ifaces, undefined), "10.1.0.5");
  assert.equal(defaultNodeIP(4, ifaces, "gone0"), "10.1.0.5");
  assert.equal(defaultNodeIP(4, { lo: ifaces.lo }, undefined), "127.0.0.1");
  assert.equal(defaultNodeIP(6, { lo: ifaces.lo, eth0: [nic("10.1.0.5", "IPv4")] }, undefined), "10.1.0.5", "no IPv6: the IPv4 default");
});

test("defaultRouteInterface: /proc/net/route and ipv6_route, lowest metric, down and lo routes skipped", () => {
  const v4 = [
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
    "eth0\t00000000\t0100000A\t0003\t0\t0\t200\t00000000\t0\t0\t0",
    "eth1\t00000000\t0100020A\t0003\t0\t0\t100\t00000000\t0\t0\t0",
    "eth2\t00000000\t0100030A\t0002\t0\t0\t1\t00000000\t0\t0\t0",
    "eth0\t0000010A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
  ].join("\n");
  assert.equal(defaultRouteInterface(4, () => v4), "eth1");
  const v6 = [
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo",
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000001 00000000 00000003     eth0",
    "fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0",
  ].join("\n");
  assert.equal(defaultRouteInterface(6, () => v6), "eth0");
  assert.equal(defaultRouteInterface(4, () => { throw new Error("no /proc"); }), undefined);
});

const facts: StaticFacts = { cpuCores: 2, memoryBytes: 2 ** 31, ephemeralBytes: 2 ** 34, kernel: "6.1", osImage: "x", arch: "amd64", machineId: "m", bootId: "b", addresses: [{ type: "InternalIP", address: "10.2.0.7" }, { type: "Hostname", address: "n1" }] };

test("the Node registers node.taints in spec.taints, without timeAdded (as --register-with-taints)", () => {
  const cfg = buildConfig({ nodeName: "n1", node: { taints: [{ key: "maintenance", effect: "NoExecute" }, { key: "dedicated", value: "gpu", effect: "NoSchedule" }] } });
  const node = nodeObject(cfg, facts, undefined);
  assert.deepEqual(node.spec?.taints, [
    { key: "maintenance", value: "", effect: "NoExecute", timeAdded: undefined },
    { key: "dedicated", value: "gpu", effect: "NoSchedule", timeAdded: undefined },
  ]);
  assert.deepEqual(node.status?.addresses, facts.addresses);
  assert.deepEqual(nodeObject(buildConfig({ nodeName: "n1" }), facts, undefined).spec?.taints, []);
});
