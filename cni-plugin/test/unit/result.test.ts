// Result conversion per version, prevResult merging, deterministic names and
// the error JSON.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ExecError } from "@plasmacloud/common/exec";
import { asCniError, CniError, toErrorJson } from "../../src/errors.js";
import { bridgeName, hostVethName, parseVethAlias, vethAlias } from "../../src/plumbing/names.js";
import { convertResult, mergeResults, type CniResult } from "../../src/result.js";

const r: CniResult = {
  cniVersion: "1.1.0",
  interfaces: [{ name: "nv0", mac: "02:00:00:00:00:01" }, { name: "eth0", mac: "02:00:00:00:00:02", mtu: 1450, sandbox: "/n" }],
  ips: [{ address: "10.0.0.2/24", gateway: "10.0.0.1", interface: 1 }],
  routes: [{ dst: "0.0.0.0/0", gw: "10.0.0.1" }],
  dns: { nameservers: ["10.0.0.53"] },
};

test("1.1.0 keeps interface mtu; 1.0.0 drops it; 0.4.0 adds ip version", () => {
  assert.equal(convertResult(r, "1.1.0").interfaces?.[1]?.mtu, 1450);
  assert.equal(convertResult(r, "1.0.0").interfaces?.[1]?.mtu, undefined);
  assert.equal(convertResult(r, "1.0.0").ips?.[0]?.version, undefined);
  assert.deepEqual(convertResult(r, "0.4.0").ips?.[0], { version: "4", address: "10.0.0.2/24", gateway: "10.0.0.1", interface: 1 });
  assert.equal(convertResult({ cniVersion: "1.0.0", ips: [], dns: {} }, "1.0.0").dns, undefined, "empty dns omitted");
});

test("mergeResults appends and re-indexes interfaces", () => {
  const prev: CniResult = { cniVersion: "1.0.0", interfaces: [{ name: "a" }, { name: "b" }], ips: [{ address: "1.1.1.1/32", interface: 0 }] };
  const m = mergeResults(prev, r);
  assert.equal(m.interfaces?.length, 4);
  assert.deepEqual(m.ips?.map((i) => i.interface), [0, 3]);
  assert.equal(mergeResults(undefined, r), r);
});

test("names are deterministic and fit IFNAMSIZ", () => {
  const id = "f".repeat(64);
  assert.equal(hostVethName(id, "eth0"), hostVethName(id, "eth0"));
  assert.notEqual(hostVethName(id, "eth0"), hostVethName(id, "eth1"));
  assert.ok(hostVethName(id, "eth0").length <= 15);
  assert.equal(bridgeName("nvbr", "subnet-a").length, 15);
  assert.notEqual(bridgeName("nvbr", "subnet-a"), bridgeName("nvbr", "subnet-b"));
  assert.deepEqual(parseVethAlias(vethAlias("net", id, "eth0")), { network: "net", containerId: id, ifname: "eth0" });
  assert.equal(parseVethAlias("something-else"), undefined);
});

test("errors render as the spec's error object", () => {
  assert.deepEqual(toErrorJson(new CniError(7, "bad", "why"), "1.0.0"), { cniVersion: "1.0.0", code: 7, msg: "bad", details: "why" });
  assert.deepEqual(toErrorJson(new CniError(3, "gone"), "0.4.0"), { cniVersion: "0.4.0", code: 3, msg: "gone" });
  const j = toErrorJson(new Error("boom"), "1.1.0");
  assert.equal(j.code, 199);
});

test("a failed host command is 105 with its command line and stderr", () => {
  const e = new ExecError("ip", ["link", "del", "nv0"], 2, "", "Cannot find device \"nv0\"\n", "exit");
  assert.deepEqual(toErrorJson(e, "1.0.0"), { cniVersion: "1.0.0", code: 105, msg: "ip failed", details: 'ip link del nv0: exit 2: Cannot find device "nv0"' });
  assert.equal(asCniError(new ExecError("ovs-vsctl", ["show"], null, "", "spawn ovs-vsctl ENOENT", "not-found"))?.code, 105);
  assert.equal(asCniError(new Error("bug")), undefined, "a bug is not a CNI error (exit 2)");
});
