// network.novanet.ovn: optional, ovs mode only, defaults as the plugin's, and
// the agent's own CHECK/GC netconf carries it as the `ovn` block the plugin
// parses (cni-plugin's parseNetConf is the judge, on a captured GC stdin).
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseNetConf } from "../../../cni-plugin/src/config/config";
import { buildConfig } from "../../src/config/schema";
import { NovanetNetwork, type NovanetSettings } from "../../src/network/novanet";

const novanet = (extra: Record<string, unknown>) => ({ network: { mode: "novanet", novanet: { serverAddress: "x:1", tokenFile: "/t", ...extra } } });
const management = { orgId: "novanet-system", projectId: "node-management", subnetId: "mgmt-1", ifname: "nvmp7" };

/** What the agent writes to the plugin's stdin for GC. */
async function gcStdin(t: { after(fn: () => void): void }, s: NovanetSettings): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), "agent-novanet-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const captured = join(dir, "stdin.json");
  const plugin = join(dir, "novanet");
  writeFileSync(plugin, `#!/bin/sh\ncat > '${captured}'\n`);
  chmodSync(plugin, 0o755);
  await new NovanetNetwork({ ...s, pluginPath: plugin }).gc([]);
  return JSON.parse(readFileSync(captured, "utf8")) as Record<string, unknown>;
}

test("network.novanet.ovn is absent by default; given, keys left out take the plugin's defaults; null removes it", () => {
  assert.equal(buildConfig().network.novanet.ovn, undefined);
  assert.equal(buildConfig(novanet({})).network.novanet.ovn, undefined);
  assert.deepEqual(buildConfig(novanet({ ovn: {} })).network.novanet.ovn, { installedTimeoutMs: 10000 });
  assert.deepEqual(buildConfig(novanet({ ovn: { installedTimeoutMs: 5000, management: { orgId: "o", projectId: "p", subnetId: "s" } } })).network.novanet.ovn, {
    installedTimeoutMs: 5000,
    management: { orgId: "o", projectId: "p", subnetId: "s", ifname: "nvmp0" },
  });
  // A later layer (flags, a second file) overlays key by key, or drops the block.
  assert.equal(buildConfig(novanet({ ovn: { management } }), novanet({ ovn: { installedTimeoutMs: 3000 } })).network.novanet.ovn?.management?.ifname, "nvmp7");
  assert.equal(buildConfig(novanet({ ovn: { management } }), novanet({ ovn: null })).network.novanet.ovn, undefined);
});

test("a bad network.novanet.ovn is named: bridge mode, a bad timeout, a missing tenant, a bad ifname, an unknown key", () => {
  assert.throws(() => buildConfig(novanet({ mode: "bridge", ovn: {} })), /config field 'network\.novanet\.ovn': needs network\.novanet\.mode ovs/);
  assert.throws(() => buildConfig(novanet({ ovn: { installedTimeoutMs: 0 } })), /'network\.novanet\.ovn\.installedTimeoutMs': must be a positive integer/);
  assert.throws(() => buildConfig(novanet({ ovn: { installedTimeoutMs: 1.5 } })), /'network\.novanet\.ovn\.installedTimeoutMs'/);
  assert.throws(() => buildConfig(novanet({ ovn: { installedTimeoutMs: "10s" } })), /'network\.novanet\.ovn\.installedTimeoutMs': must be a number/);
  assert.throws(() => buildConfig(novanet({ ovn: { management: { orgId: "o", projectId: "p" } } })), /'network\.novanet\.ovn\.management\.subnetId': must be set/);
  assert.throws(() => buildConfig(novanet({ ovn: { management: { ...management, ifname: "a-name-far-too-long" } } })), /'network\.novanet\.ovn\.management\.ifname'/);
  assert.throws(() => buildConfig(novanet({ ovn: { management: { ...management, subnet_id: "s" } } })), /'network\.novanet\.ovn\.management\.subnet_id': unknown field/);
  assert.throws(() => buildConfig(novanet({ ovn: "yes" })), /'network\.novanet\.ovn': must be a mapping/);
});

test("the agent's CHECK/GC netconf carries the ovn block in the plugin's keys, and the plugin parses it back", async (t) => {
  const cfg = buildConfig(novanet({ ovsdb: "unix:/run/openvswitch/db.sock", ovn: { installedTimeoutMs: 7000, management } }));
  const sent = await gcStdin(t, cfg.network.novanet);
  assert.deepEqual(sent.ovn, {
    installed_timeout_ms: 7000,
    management: { org_id: "novanet-system", project_id: "node-management", subnet_id: "mgmt-1", ifname: "nvmp7" },
  });
  const parsed = parseNetConf(JSON.stringify(sent), []);
  assert.deepEqual(parsed.ovn, { installedTimeoutMs: 7000, management: { orgId: "novanet-system", projectId: "node-management", subnetId: "mgmt-1", ifname: "nvmp7" } });

  // Without management: only the wait; without the block: no ovn key at all.
  const waitOnly = await gcStdin(t, buildConfig(novanet({ ovn: {} })).network.novanet);
  assert.deepEqual(waitOnly.ovn, { installed_timeout_ms: 10000 });
  assert.deepEqual(parseNetConf(JSON.stringify(waitOnly), []).ovn, { installedTimeoutMs: 10000 });
  const plain = await gcStdin(t, buildConfig(novanet({})).network.novanet);
  assert.equal("ovn" in plain, false);
  assert.equal(parseNetConf(JSON.stringify(plain), []).ovn, undefined);
});
