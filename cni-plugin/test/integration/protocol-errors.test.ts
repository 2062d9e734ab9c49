// Every error path of the protocol, each output checked against the spec's
// error shape: bad JSON, missing/invalid fields, unsupported versions, bad
// env, unknown subnet, NovaNET down or refusing us, netns missing, subnet
// exhausted (with rollback), plumbing failure (with rollback).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { ensureBuilt } from "../helpers/build.js";
import { exec, sh } from "../helpers/exec.js";
import { createNetns, deleteAllNetns, deleteVethsOf } from "../helpers/netns.js";
import { startFixture, type Fixture } from "../helpers/novanet.js";
import { describeRun, invoke, verb } from "../helpers/plugin.js";
import { assertErrorShape } from "../helpers/shapes.js";
import { bridgeName, hostVethName } from "../../src/plumbing/names.js";

const SUBNET = `sn-pe-${process.pid}`;
const TINY = `sn-pe-tiny-${process.pid}`;
let fx: Fixture;
let deadAddr: string;

/** An address where nothing listens: NovaNET "down". */
async function closedPort(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `127.0.0.1:${port}`;
}

before(async () => {
  ensureBuilt();
  fx = await startFixture([
    { id: SUBNET, orgId: "org-p", projectId: "proj-p", cidr: "10.213.6.0/24" },
    // /30: one usable address besides the gateway.
    { id: TINY, orgId: "org-p", projectId: "proj-p", cidr: "10.213.7.0/30" },
  ]);
  deadAddr = await closedPort();
});

after(async () => {
  await deleteAllNetns();
  await deleteVethsOf("novanet-test");
  for (const s of [SUBNET, TINY]) await exec("ip", ["link", "del", bridgeName("nvbr", s)]);
  await fx?.close();
});

async function expectError(r: Awaited<ReturnType<typeof invoke>>, code: number, version?: string, field?: RegExp): Promise<void> {
  assert.notEqual(r.code, 0, `non-zero exit expected\n${describeRun(r)}`);
  assertErrorShape(r.json, code, version);
  if (field) assert.match(`${String(r.json.msg)} ${String(r.json.details ?? "")}`, field);
  assert.equal(r.stdout.trim().split("\n").length, 1, "nothing else on stdout");
}

describe("decode and config errors", () => {
  test("bad JSON is error 6", async () => {
    const ns = await createNetns("pe");
    await expectError(await invoke({ command: "ADD", config: "{not json", containerId: "x", netns: ns.path, ifname: "eth0" }), 6);
    await expectError(await invoke({ command: "ADD", config: "[1,2]", containerId: "x", netns: ns.path, ifname: "eth0" }), 6);
    await expectError(await invoke({ command: "VERSION", config: "garbage" }), 6);
  });

  test("missing or invalid fields are error 7 naming the field", async () => {
    const ns = await createNetns("pe");
    const base = fx.conf();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...base, name: undefined }, /\bname\b/],
      [{ ...base, name: "bad name!" }, /\bname\b/],
      [{ ...base, type: "bridge" }, /\btype\b/],
      [{ ...base, novanet: undefined }, /novanet/],
      [{ ...base, novanet: { token_file: fx.tokenFile } }, /novanet\.server_addr/],
      [{ ...base, mode: "vxlan" }, /\bmode\b/],
      [{ ...base, mtu: 12 }, /\bmtu\b/],
      [{ ...base, subnet_id: undefined }, /subnet_id/],
      [{ ...base, org_id: undefined }, /org_id/],
      [{ ...base, cniVersion: undefined }, /cniVersion/],
      [{ ...base, novanet: { server_addr: "x:1", tls: { cert_file: "/c" } } }, /novanet\.tls/],
    ];
    for (const [conf, field] of cases) await expectError(await verb("ADD", conf, "x", ns.path), 7, undefined, field);
    assert.equal(fx.novanet.ports().length, 0);
  });

  test("unsupported versions are error 1, answered in the asked version", async () => {
    const ns = await createNetns("pe");
    for (const v of ["0.3.1", "2.0.0"]) await expectError(await verb("ADD", fx.conf({ cniVersion: v }), "x", ns.path), 1, v);
  });
});

describe("environment errors are error 4", () => {
  test("missing or bad CNI_* variables", async () => {
    const ns = await createNetns("pe");
    const conf = fx.conf();
    await expectError(await invoke({ command: "", config: conf }), 4, "1.0.0", /CNI_COMMAND/);
    await expectError(await invoke({ command: "FROB", config: conf }), 4, "1.0.0", /CNI_COMMAND/);
    await expectError(await invoke({ command: "ADD", config: conf, netns: ns.path, ifname: "eth0" }), 4, "1.0.0", /CNI_CONTAINERID/);
    await expectError(await invoke({ command: "ADD", config: conf, containerId: "c", ifname: "eth0" }), 4, "1.0.0", /CNI_NETNS/);
    await expectError(await invoke({ command: "ADD", config: conf, containerId: "c", netns: ns.path }), 4, "1.0.0", /CNI_IFNAME/);
    await expectError(await invoke({ command: "ADD", config: conf, containerId: "c", netns: ns.path, ifname: "a-very-long-ifname0" }), 4, "1.0.0", /CNI_IFNAME/);
    await expectError(await invoke({ command: "ADD", config: conf, containerId: "c", netns: ns.path, ifname: "eth0", args: "NOEQUALS" }), 4, "1.0.0", /CNI_ARGS/);
  });
});

describe("NovaNET and host errors", () => {
  test("unknown subnet is error 101 and creates nothing", async () => {
    const ns = await createNetns("pe");
    await expectError(await verb("ADD", fx.conf({ subnet_id: "no-such-subnet" }), "u1", ns.path), 101, "1.0.0", /no-such-subnet/);
    assert.equal(fx.novanet.ports().length, 0);
    assert.equal((await exec("ip", ["link", "show", hostVethName("u1", "eth0")])).code, 1);
  });

  test("NovaNET down: ADD and DEL say try again later (11), STATUS says 50", async () => {
    const ns = await createNetns("pe");
    const conf = fx.conf({ novanet: { server_addr: deadAddr, token_file: fx.tokenFile, timeout_ms: 2000 } });
    await expectError(await verb("ADD", conf, "down1", ns.path), 11, "1.0.0");
    await expectError(await verb("DEL", conf, "down1", ns.path), 11, "1.0.0");
    await expectError(await invoke({ command: "STATUS", config: { ...conf, cniVersion: "1.1.0" } }), 50, "1.1.0");
    assert.equal((await exec("ip", ["link", "show", hostVethName("down1", "eth0")])).code, 1, "nothing plumbed");
  });

  test("credentials: missing token file is 5, a rejected token 103 (STATUS 50)", async () => {
    const ns = await createNetns("pe");
    const missing = fx.conf({ novanet: { server_addr: fx.novanet.address, token_file: join(fx.dir, "nope") } });
    await expectError(await verb("ADD", missing, "t1", ns.path), 5, "1.0.0", /token_file/);
    const badTok = join(fx.dir, "bad-token");
    writeFileSync(badTok, "not-a-token");
    const bad = fx.conf({ novanet: { server_addr: fx.novanet.address, token_file: badTok } });
    const r = await verb("ADD", bad, "t1", ns.path);
    await expectError(r, 103, "1.0.0");
    assert.doesNotMatch(r.stdout + r.stderr, /not-a-token/, "the token never appears in output");
    await expectError(await invoke({ command: "STATUS", config: { ...bad, cniVersion: "1.1.0" } }), 50, "1.1.0");
  });

  test("netns missing: ADD and CHECK are error 3, DEL succeeds", async () => {
    const gone = "/var/run/netns/nvt-never-existed";
    await expectError(await verb("ADD", fx.conf(), "nn1", gone), 3, "1.0.0");
    await expectError(await verb("CHECK", fx.conf({ prevResult: { cniVersion: "1.0.0", interfaces: [{ name: "eth0", sandbox: gone }], ips: [] } }), "nn1", gone), 3, "1.0.0");
    const d = await verb("DEL", fx.conf(), "nn1", gone);
    assert.equal(d.code, 0, describeRun(d));
    assert.equal(d.stdout, "");
    assert.equal(fx.novanet.ports().length, 0);
  });

  test("subnet exhausted is 102 and rolls back", async () => {
    const [a, b] = [await createNetns("pe"), await createNetns("pe")];
    const conf = fx.conf({ subnet_id: TINY });
    const ok = await verb("ADD", conf, "ex1", a.path);
    assert.equal(ok.code, 0, describeRun(ok));
    await expectError(await verb("ADD", conf, "ex2", b.path), 102, "1.0.0");
    assert.deepEqual(fx.novanet.ports().map((p) => p.deviceId), ["ex1"]);
    assert.equal((await exec("ip", ["link", "show", hostVethName("ex2", "eth0")])).code, 1);
    assert.equal((await verb("DEL", conf, "ex1", a.path)).code, 0);
  });

  test("a plumbing failure is 105 and rolls back the veth and the port", async () => {
    const ns = await createNetns("pe");
    await sh("ip", "-n", ns.name, "link", "add", "eth0", "type", "bridge"); // CNI_IFNAME taken
    await expectError(await verb("ADD", fx.conf(), "pf1", ns.path), 105, "1.0.0");
    assert.equal(fx.novanet.ports().length, 0, "port rolled back");
    assert.equal(fx.novanet.calls.get("DeletePort") !== undefined, true);
    assert.equal((await exec("ip", ["link", "show", hostVethName("pf1", "eth0")])).code, 1, "veth rolled back");
  });

  test("CHECK with no prevResult and no cache is an error", async () => {
    const ns = await createNetns("pe");
    await expectError(await verb("CHECK", fx.conf(), "nothing", ns.path), 106, "1.0.0");
  });
});
