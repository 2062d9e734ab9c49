// The `services:` block: its defaults, what `auto` means per network mode, and
// errors that name the field.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildConfig } from "../../src/config/schema";
import { servicesMode } from "../../src/services/config";

const novanet = (mode: string) => ({ network: { mode: "novanet", novanet: { serverAddress: "x:1", tokenFile: "/t", mode } } });

test("services default to auto: nftables with NovaNET (bridges; ovs for node ports), nothing in runtime mode; the table and range are kube-proxy-like", () => {
  const d = buildConfig();
  assert.deepEqual(d.services, { mode: "auto", serviceCIDR: "10.96.0.0/16", table: "k8shost", cleanupOnStop: false, syncSeconds: 30 });
  assert.equal(servicesMode(d.services, d.network), "none", "runtime mode");
  const bridge = buildConfig(novanet("bridge"));
  assert.equal(servicesMode(bridge.services, bridge.network), "nftables");
  const ovs = buildConfig(novanet("ovs"));
  assert.equal(servicesMode(ovs.services, ovs.network), "nftables", "ovs mode: node ports arrive at the host");
  const forced = buildConfig({ services: { mode: "nftables" } });
  assert.equal(servicesMode(forced.services, forced.network), "nftables", "asked for in runtime mode");
  for (const mode of ["bridge", "ovs"]) {
    const off = buildConfig(novanet(mode), { services: { mode: "none" } });
    assert.equal(servicesMode(off.services, off.network), "none", `none stays none in ${mode} mode`);
  }
});

test("a bad services field is named", () => {
  assert.throws(() => buildConfig({ services: { mode: "ipvs" } }), /config field 'services\.mode': 'ipvs' is not one of auto, nftables, none/);
  assert.throws(() => buildConfig({ services: { serviceCIDR: "10.96.0.1/16" } }), /config field 'services\.serviceCIDR': '10\.96\.0\.1\/16' has host bits set/);
  assert.throws(() => buildConfig({ services: { serviceCIDR: "fd00::/108" } }), /services\.serviceCIDR/);
  assert.throws(() => buildConfig({ services: { table: "k8s host; flush ruleset" } }), /config field 'services\.table': .* is not a table name/);
  assert.throws(() => buildConfig({ services: { syncSeconds: 0 } }), /services\.syncSeconds/);
  assert.throws(() => buildConfig({ services: { cleanup: true } }), /config field 'services\.cleanup': unknown field/);
});
