// The NovaNET stand-in's OVN northbound programming, read back with ovn-nbctl
// from the node stack's OVN (traffic through it: cni-plugin/test/integration/
// ovn*.test.ts): what subnets and ports become, a restart from the state file
// making the northbound db match again, an OVN failure leaving NovaNET's
// state as it was, and nothing left once a stand-in without state stops.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GrpcCallError } from "@plasmacloud/common/grpc";
import { TokenStore } from "../../src/iam/tokens.js";
import { startNovanetStandIn, type NovanetStandIn } from "../../src/novanet/server.js";
import { connectNovanet } from "../../../cni-plugin/src/novanet/client.js";
import type { NovanetApi } from "../../../cni-plugin/src/novanet/api.js";
import { OVN_NB, ensureOvn, nbGet, nbctl } from "../../../cni-plugin/test/helpers/ovn.js";

const dir = mkdtempSync(join(tmpdir(), "standin-ovn-"));
const prefix = `s${process.pid}`;
const tokens = new TokenStore().add("node-tok", { name: "system:node:n1", kind: "node", orgId: "", projectId: "", nodeName: "n1" });
const A = { orgId: "org-nb-a", projectId: "proj-nb-a" };
const B = { orgId: "org-nb-b", projectId: "proj-nb-b" };
const subnets = [
  { id: "nb-a1", ...A, cidr: "10.213.50.0/24", gatewayIp: "10.213.50.1" },
  { id: "nb-a2", ...A, cidr: "10.213.51.0/28" },
  { id: "nb-b1", ...B, cidr: "10.213.50.0/24", gatewayIp: "10.213.50.254" }, // the same CIDR as a1: tenants' own address spaces
];
// The stand-in reaches OVN through this link to the real socket: removing it is an OVN outage.
const nbLink = join(dir, "nb.sock");
const opts = { tokens, stateFile: join(dir, "state.json"), subnets, ovn: { nbDb: `unix:${nbLink}`, prefix, removeOnStop: false } };
let s: NovanetStandIn | undefined;

function client(): NovanetApi {
  writeFileSync(join(dir, "tok"), "node-tok");
  return connectNovanet({ server_addr: s!.address, token_file: join(dir, "tok"), timeout_ms: 15_000 });
}
const owned = async (table: string): Promise<string[]> =>
  (await nbctl("--bare", "--columns=name", "find", table, `external_ids:novanet-owner=${prefix}`)).split("\n").filter(Boolean).sort();

before(async () => {
  ensureOvn();
  symlinkSync(OVN_NB.replace(/^unix:/, ""), nbLink);
  s = await startNovanetStandIn(opts);
});

after(async () => {
  await s?.stop();
  // Whatever a failed test kept: a stand-in without state removes its objects on stop.
  await (await startNovanetStandIn({ tokens, ovn: { nbDb: OVN_NB, prefix } }).catch(() => undefined))?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("NovaNET stand-in: OVN northbound", () => {
  test("a switch per subnet, a router per tenant holding the gateways, a switch port per port", async () => {
    const ovn = s!.ovn!;
    assert.deepEqual(await owned("Logical_Switch"), subnets.map((x) => ovn.switchName(x.id)).sort());
    assert.deepEqual(await owned("Logical_Router"), [ovn.routerName(A.orgId, A.projectId), ovn.routerName(B.orgId, B.projectId)].sort());
    const ports = (lr: string): Promise<string> => nbctl("lrp-list", lr);
    assert.equal((await ports(ovn.routerName(A.orgId, A.projectId))).trim().split("\n").length, 2, "tenant A's router: its two subnets");
    assert.equal((await ports(ovn.routerName(B.orgId, B.projectId))).trim().split("\n").length, 1, "tenant B's router: its one subnet");
    for (const sub of s!.subnets()) {
      const lrp = ovn.routerPortName(sub.id);
      assert.equal(await nbGet("Logical_Router_Port", lrp, "mac"), ovn.gatewayMac(sub));
      assert.equal(await nbGet("Logical_Router_Port", lrp, "networks"), `${sub.gatewayIp}/${sub.cidr.split("/")[1]}`);
      const peer = `${ovn.switchName(sub.id)}/lr`;
      assert.equal(await nbGet("Logical_Switch_Port", peer, "type"), "router");
      assert.equal(await nbGet("Logical_Switch_Port", peer, "options"), `router-port=${lrp}`);
    }
    const api = client();
    try {
      const p = await api.createPort(B, { subnetId: "nb-b1", deviceId: "dev-1", deviceOwner: "t", name: "n/eth0" });
      assert.equal(await nbGet("Logical_Switch_Port", p.id, "addresses"), `${p.macAddress} ${p.ipAddress}`);
      assert.equal(await nbGet("Logical_Switch_Port", p.id, "port_security"), `${p.macAddress} ${p.ipAddress}`);
      assert.match(await nbctl("lsp-get-ls", p.id), new RegExp(`\\(${ovn.switchName("nb-b1")}\\)`));
      await api.deletePort(B, p.id);
      assert.equal(await nbGet("Logical_Switch_Port", p.id, "name"), "", "DeletePort removes it");
    } finally {
      api.close();
    }
  });

  test("a restart from the state file makes the northbound db match NovaNET's ports again", async () => {
    const api = client();
    const [p1, p2] = [await api.createPort(A, { subnetId: "nb-a1", deviceId: "d1", deviceOwner: "t", name: "n/eth0" }),
      await api.createPort(A, { subnetId: "nb-a2", deviceId: "d2", deviceOwner: "t", name: "n/eth0" })];
    api.close();
    await s!.stop();
    // While it is down: p1's switch port lost, and a switch port of ours NovaNET has no port for.
    await nbctl("lsp-del", p1.id);
    await nbctl("lsp-add", s!.ovn!.switchName("nb-a1"), "port-stale", "--", "set", "Logical_Switch_Port", "port-stale", `external_ids:novanet-owner=${prefix}`);
    s = await startNovanetStandIn(opts);
    assert.equal(await nbGet("Logical_Switch_Port", p1.id, "addresses"), `${p1.macAddress} ${p1.ipAddress}`, "restored");
    assert.equal(await nbGet("Logical_Switch_Port", p2.id, "addresses"), `${p2.macAddress} ${p2.ipAddress}`, "kept");
    assert.equal(await nbGet("Logical_Switch_Port", "port-stale", "name"), "", "removed");
  });

  test("when OVN fails, NovaNET answers UNAVAILABLE and keeps its state as it was", async () => {
    const api = client();
    const before = s!.ports().map((p) => p.id).sort();
    rmSync(nbLink);
    try {
      await assert.rejects(api.createPort(A, { subnetId: "nb-a1", deviceId: "d3", deviceOwner: "t", name: "n/eth0" }),
        (e: unknown) => e instanceof GrpcCallError && e.code === "Unavailable" && /programming OVN/.test(e.message));
      await assert.rejects(api.deletePort(A, before[0]!), (e: unknown) => e instanceof GrpcCallError && e.code === "Unavailable");
      assert.deepEqual(s!.ports().map((p) => p.id).sort(), before, "no port made, none lost");
    } finally {
      symlinkSync(OVN_NB.replace(/^unix:/, ""), nbLink);
    }
    const p = await api.createPort(A, { subnetId: "nb-a1", deviceId: "d3", deviceOwner: "t", name: "n/eth0" });
    assert.equal(p.ipAddress, "10.213.50.3", "the failed call took no address (d1 holds .2)");
    api.close();
  });

  test("with removeOnStop (the default without a state file) it removes everything of its own when it stops", async () => {
    await s!.stop();
    const last = await startNovanetStandIn({ ...opts, ovn: { ...opts.ovn, removeOnStop: true } });
    s = undefined;
    await last.stop();
    assert.deepEqual([...await owned("Logical_Switch"), ...await owned("Logical_Router"), ...await owned("Logical_Switch_Port")], []);
  });
});
