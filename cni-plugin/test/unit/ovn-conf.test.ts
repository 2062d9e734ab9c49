// The netconf's `ovn` block (ADD waits for ovn-installed; the node's
// management port) and the pure helpers of plumbing/management.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseNetConf } from "../../src/config/config.js";
import { CniError } from "../../src/errors.js";
import { networkOf, routeLine } from "../../src/plumbing/management.js";

const base = {
  cniVersion: "1.0.0", name: "net", type: "novanet", mode: "ovs",
  novanet: { server_addr: "127.0.0.1:9190" }, org_id: "o", project_id: "p", subnet_id: "s",
};
const parse = (o: unknown) => parseNetConf(JSON.stringify(o), []);
const mgmt = { org_id: "novanet-system", project_id: "node-management", subnet_id: "node-management" };

function invalid(o: unknown, names: RegExp): void {
  assert.throws(() => parse(o), (e: unknown) => e instanceof CniError && e.code === 7 && names.test(e.message), names.source);
}

test("no `ovn`: a plain OVS bridge, nothing waited for", () => {
  assert.equal(parse(base).ovn, undefined);
});

test("`ovn` defaults: a 10 s wait, no management port; the port's name defaults to nvmp0", () => {
  assert.deepEqual(parse({ ...base, ovn: {} }).ovn, { installedTimeoutMs: 10_000 });
  assert.deepEqual(parse({ ...base, ovn: { installed_timeout_ms: 2500, management: mgmt } }).ovn, {
    installedTimeoutMs: 2500,
    management: { orgId: "novanet-system", projectId: "node-management", subnetId: "node-management", ifname: "nvmp0" },
  });
  assert.equal(parse({ ...base, ovn: { management: { ...mgmt, ifname: "mp1" } } }).ovn?.management?.ifname, "mp1");
});

test("bad `ovn` values name their field", () => {
  invalid({ ...base, ovn: true }, /^invalid network config: ovn must be an object/);
  invalid({ ...base, mode: "bridge", ovn: {} }, /ovn needs mode "ovs"/);
  invalid({ ...base, ovn: { installed_timeout_ms: 0 } }, /ovn\.installed_timeout_ms must be a positive integer/);
  invalid({ ...base, ovn: { installed_timeout_ms: "5s" } }, /ovn\.installed_timeout_ms/);
  invalid({ ...base, ovn: { management: [] } }, /ovn\.management must be an object/);
  invalid({ ...base, ovn: { management: { ...mgmt, subnet_id: "" } } }, /ovn\.management\.subnet_id is required/);
  invalid({ ...base, ovn: { management: { subnet_id: "x" } } }, /ovn\.management\.org_id is required/);
  invalid({ ...base, ovn: { management: { ...mgmt, ifname: "much-too-long-name" } } }, /ovn\.management\.ifname/);
  invalid({ ...base, ovn: { management: { ...mgmt, ifname: "a b" } } }, /ovn\.management\.ifname/);
});

test("a pod address's network, and the host route through the management port", () => {
  assert.equal(networkOf("10.213.60.17/24"), "10.213.60.0/24");
  assert.equal(networkOf("10.88.0.130/25"), "10.88.0.128/25");
  assert.equal(networkOf("192.168.7.9/32"), "192.168.7.9/32");
  assert.equal(networkOf("fd00::1/64"), undefined);
  assert.equal(networkOf("10.0.0.1"), undefined);
  assert.equal(routeLine("nvmp0", "10.88.0.0/24", "100.64.0.1"), "route replace 10.88.0.0/24 via 100.64.0.1 dev nvmp0");
});
