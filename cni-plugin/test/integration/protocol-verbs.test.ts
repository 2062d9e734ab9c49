// Every verb's success path, outputs checked against the spec's shapes:
// VERSION, ADD in 0.4.0/1.0.0/1.1.0, CHECK from the cache, DEL of unknown
// attachments, STATUS, GC with cni.dev/valid-attachments, prevResult merging.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import { credentials, Metadata } from "@grpc/grpc-js";
import { PortServiceClient } from "@plasmacloud/proto/novanet";
import { ensureBuilt } from "../helpers/build.js";
import { exec } from "../helpers/exec.js";
import { createNetns, deleteAllNetns, deleteVethsOf } from "../helpers/netns.js";
import { NODE_TOKEN, startFixture, type Fixture } from "../helpers/novanet.js";
import { describeRun, invoke, verb } from "../helpers/plugin.js";
import { assertResultShape } from "../helpers/shapes.js";
import { bridgeName, hostVethName } from "../../src/plumbing/names.js";

const SUBNET = `sn-pv-${process.pid}`;
let fx: Fixture;

before(async () => {
  ensureBuilt();
  fx = await startFixture([{ id: SUBNET, orgId: "org-v", projectId: "proj-v", cidr: "10.213.8.0/24", dnsServers: ["10.213.8.53"] }]);
});

after(async () => {
  await deleteAllNetns();
  await deleteVethsOf("novanet-test");
  await exec("ip", ["link", "del", bridgeName("nvbr", SUBNET)]);
  await fx?.close();
});

const linkGone = async (name: string): Promise<boolean> => (await exec("ip", ["link", "show", name])).code !== 0;

describe("verbs", () => {
  test("VERSION lists the supported versions, with or without stdin", async () => {
    for (const stdin of ["", JSON.stringify({ cniVersion: "0.4.0" }), JSON.stringify({ cniVersion: "1.1.0" })]) {
      const r = await invoke({ command: "VERSION", config: stdin });
      assert.equal(r.code, 0, describeRun(r));
      assert.deepEqual(r.json, { cniVersion: "1.1.0", supportedVersions: ["0.4.0", "1.0.0", "1.1.0"] });
    }
  });

  for (const v of ["0.4.0", "1.0.0", "1.1.0"]) {
    test(`ADD answers in the ${v} result shape; CHECK works from the cache; DEL cleans up`, async () => {
      const ns = await createNetns("pv");
      const id = `ver-${v.replace(/\./g, "")}`;
      const conf = fx.conf({ cniVersion: v });
      const r = await verb("ADD", conf, id, ns.path);
      assert.equal(r.code, 0, describeRun(r));
      assertResultShape(r.json, v);
      assert.deepEqual(r.json.dns, { nameservers: ["10.213.8.53"] });
      const ifaces = r.json.interfaces as { name: string; mtu?: number }[];
      assert.equal(ifaces.at(-1)?.name, "eth0");
      if (v === "1.1.0") assert.equal(ifaces.at(-1)?.mtu, 1500, "subnet MTU 0 means the 1500 default");
      // Without prevResult CHECK falls back to the cached result.
      const c = await verb("CHECK", conf, id, ns.path);
      assert.equal(c.code, 0, describeRun(c));
      const d = await verb("DEL", conf, id, ns.path);
      assert.equal(d.code, 0, describeRun(d));
      assert.ok(await linkGone(hostVethName(id, "eth0")));
    });
  }

  test("logFile gets one JSON line per verb and never the token", async () => {
    const ns = await createNetns("pv");
    const logFile = `${fx.dir}/novanet.log`;
    const conf = fx.conf({ logFile });
    assert.equal((await verb("ADD", conf, "logged", ns.path)).code, 0);
    assert.equal((await verb("DEL", conf, "logged", ns.path)).code, 0);
    const lines = readFileSync(logFile, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { msg: string });
    assert.deepEqual(lines.map((l) => l.msg), ["ADD done", "DEL done"]);
    assert.doesNotMatch(readFileSync(logFile, "utf8"), new RegExp(NODE_TOKEN));
  });

  test("DEL of an attachment that never existed succeeds", async () => {
    const d = await verb("DEL", fx.conf(), "never-added", "/var/run/netns/nope");
    assert.equal(d.code, 0, describeRun(d));
    assert.equal(d.stdout, "");
  });

  test("DEL with no tenant anywhere (its ADD failed before NovaNET) succeeds, so the runtime can remove the sandbox", async () => {
    const conf = fx.conf({ org_id: undefined, project_id: undefined });
    const add = await verb("ADD", conf, "no-tenant", "/var/run/netns/nope");
    assert.notEqual(add.code, 0, "ADD without a tenant fails");
    const d = await verb("DEL", conf, "no-tenant", "/var/run/netns/nope");
    assert.equal(d.code, 0, describeRun(d));
    assert.equal(d.stdout, "");
  });

  test("DEL releases the port in one NovaNET call: by the cached id, else by the veth's alias, else by listing", async () => {
    const calls = (): Record<string, number> => Object.fromEntries(fx.novanet.calls);
    const delta = (before: Record<string, number>): Record<string, number> => Object.fromEntries(
      Object.entries(calls()).filter(([k, n]) => n !== (before[k] ?? 0)).map(([k, n]) => [k, n - (before[k] ?? 0)]));
    const cachePath = (id: string): string => `${fx.cacheDir}/novanet-test-${id}-eth0`;
    for (const how of ["cache", "alias", "neither"] as const) {
      const ns = await createNetns("pv");
      const id = `del1-${how}`;
      assert.equal((await verb("ADD", fx.conf(), id, ns.path)).code, 0);
      const port = fx.novanet.ports().find((p) => p.deviceId === id);
      assert.ok(port);
      const alias = (await exec("cat", [`/sys/class/net/${hostVethName(id, "eth0")}/ifalias`])).stdout.trim();
      assert.equal(alias, `novanet:novanet-test:${id}:eth0:${port.id}`);
      // containerd's libcni rewrites the entry in its own format, without our fields.
      if (how !== "cache") rmSync(cachePath(id));
      if (how === "neither") await exec("ip", ["link", "set", hostVethName(id, "eth0"), "alias", `novanet:novanet-test:${id}:eth0`]);
      const before = calls();
      const d = await verb("DEL", fx.conf(), id, ns.path);
      assert.equal(d.code, 0, describeRun(d));
      assert.deepEqual(delta(before), how === "neither" ? { ListPorts: 1, DeletePort: 1 } : { DeletePort: 1 }, how);
      assert.ok(!fx.novanet.ports().some((p) => p.deviceId === id), `${how}: port released`);
      assert.ok(await linkGone(hostVethName(id, "eth0")));
    }
  });

  test("STATUS succeeds when NovaNET answers", async () => {
    const r = await invoke({ command: "STATUS", config: fx.conf({ cniVersion: "1.1.0" }) });
    assert.equal(r.code, 0, describeRun(r));
    assert.equal(r.stdout, "");
    const noSubnet = await invoke({ command: "STATUS", config: fx.conf({ cniVersion: "1.1.0", subnet_id: undefined }) });
    assert.equal(noSubnet.code, 0, describeRun(noSubnet));
  });

  test("ADD after an earlier plugin appends to prevResult", async () => {
    const ns = await createNetns("pv");
    const prev = { cniVersion: "1.0.0", interfaces: [{ name: "lo0" }], ips: [{ address: "192.0.2.77/32", interface: 0 }] };
    const r = await verb("ADD", fx.conf({ prevResult: prev }), "merge1", ns.path);
    assert.equal(r.code, 0, describeRun(r));
    const ips = r.json?.ips as { address: string; interface: number }[];
    const ifaces = r.json?.interfaces as { name: string }[];
    assert.equal(ips[0]?.address, "192.0.2.77/32");
    assert.equal(ifaces[ips[1]!.interface]?.name, "eth0");
    assert.equal((await verb("DEL", fx.conf(), "merge1", ns.path)).code, 0);
  });

  test("GC removes every attachment not listed, and leaked ports of this node", async () => {
    const ids = ["gc-1", "gc-2", "gc-3"];
    const spaces = [];
    for (const id of ids) {
      const ns = await createNetns("gc");
      spaces.push(ns);
      const r = await verb("ADD", fx.conf(), id, ns.path);
      assert.equal(r.code, 0, describeRun(r));
    }
    // gc-3 lost its cache file: GC must still find its veth by alias.
    rmSync(`${fx.cacheDir}/novanet-test-gc-3-eth0`);
    // A port this node created whose ADD never finished (no veth, no cache).
    const client = new PortServiceClient(fx.novanet.address, credentials.createInsecure());
    const md = new Metadata();
    md.set("authorization", `Bearer ${NODE_TOKEN}`);
    const create = (deviceId: string, owner: string): Promise<void> => new Promise<void>((res, rej) => client.createPort({
      orgId: "org-v", projectId: "proj-v", subnetId: SUBNET, deviceId, deviceOwner: owner, name: "novanet-test/eth0", ipAddress: "",
    }, md, (e) => (e ? rej(e) : res())));
    await create("gc-leak", `cni:novanet@${hostname()}`);
    // Another node's port in the same subnet is not ours to collect.
    await create("other-node-pod", "cni:novanet@some-other-node");
    client.close();

    const r = await invoke({ command: "GC", config: fx.conf({ cniVersion: "1.1.0", "cni.dev/valid-attachments": [{ containerID: "gc-1", ifname: "eth0" }] }) });
    assert.equal(r.code, 0, describeRun(r));
    assert.equal(r.stdout, "");
    assert.deepEqual(fx.novanet.ports().map((p) => p.deviceId).sort(), ["gc-1", "other-node-pod"]);
    assert.ok(!(await linkGone(hostVethName("gc-1", "eth0"))), "valid attachment untouched");
    assert.ok(await linkGone(hostVethName("gc-2", "eth0")));
    assert.ok(await linkGone(hostVethName("gc-3", "eth0")));
    assert.ok(existsSync(`${fx.cacheDir}/novanet-test-gc-1-eth0`));
    assert.ok(!existsSync(`${fx.cacheDir}/novanet-test-gc-2-eth0`));

    const r2 = await invoke({ command: "GC", config: fx.conf({ cniVersion: "1.1.0", "cni.dev/valid-attachments": [] }) });
    assert.equal(r2.code, 0, describeRun(r2));
    assert.deepEqual(fx.novanet.ports().map((p) => p.deviceId), ["other-node-pod"]);
    assert.ok(await linkGone(hostVethName("gc-1", "eth0")));
  });
});
