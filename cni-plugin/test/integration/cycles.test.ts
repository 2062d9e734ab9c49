// 100 ADD/DEL cycles, each in a fresh netns (every 10th has its netns
// deleted before DEL, as when a sandbox died): afterwards no veth, netns,
// NovaNET port or cache file of ours is left and the pool is whole again.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { ensureBuilt } from "../helpers/build.js";
import { exec, sh } from "../helpers/exec.js";
import { createNetns, deleteAllNetns, deleteVethsOf, deleteNetns } from "../helpers/netns.js";
import { startFixture, type Fixture } from "../helpers/novanet.js";
import { describeRun, verb } from "../helpers/plugin.js";
import { bridgeName } from "../../src/plumbing/names.js";

const SUBNET = `sn-cy-${process.pid}`;
let fx: Fixture;

before(async () => {
  ensureBuilt();
  // A /28 has 13 usable addresses: leaks would exhaust it long before 100.
  fx = await startFixture([{ id: SUBNET, orgId: "org-c", projectId: "proj-c", cidr: "10.213.5.0/28" }]);
});

after(async () => {
  await deleteAllNetns();
  await deleteVethsOf("novanet-test");
  await exec("ip", ["link", "del", bridgeName("nvbr", SUBNET)]);
  await fx?.close();
});

test("100 ADD/DEL cycles leave nothing behind", { timeout: 240_000 }, async () => {
  const conf = fx.conf();
  const before = readdirSync("/sys/class/net").filter((l) => /^nv[0-9a-f]{12}$/.test(l)).length;
  for (let i = 0; i < 100; i++) {
    const ns = await createNetns("cy");
    const id = `cycle-${i}`;
    const a = await verb("ADD", conf, id, ns.path);
    assert.equal(a.code, 0, `cycle ${i}: ${describeRun(a)}`);
    if (i % 10 === 9) await deleteNetns(ns.name);
    const d = await verb("DEL", conf, id, ns.path);
    assert.equal(d.code, 0, `cycle ${i}: ${describeRun(d)}`);
    await deleteNetns(ns.name);
  }
  const aliases = JSON.parse(await sh("ip", "-j", "link", "show", "type", "veth")) as { ifalias?: string }[];
  assert.equal(aliases.filter((l) => l.ifalias?.startsWith("novanet:novanet-test:cycle-")).length, 0, "no veth of ours");
  assert.equal(readdirSync("/sys/class/net").filter((l) => /^nv[0-9a-f]{12}$/.test(l)).length, before, "no new nv* links");
  assert.equal((await sh("ip", "netns", "list")).split("\n").filter((l) => l.includes("nvt-cy-")).length, 0, "no netns");
  assert.equal(fx.novanet.ports().length, 0, "no NovaNET port");
  assert.deepEqual(existsSync(fx.cacheDir) ? readdirSync(fx.cacheDir) : [], [], "no cache file");
  assert.equal(fx.novanet.calls.get("DeletePort"), 100);
});
