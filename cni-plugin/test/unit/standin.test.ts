// The NovaNET stand-in over real gRPC, driven through the plugin's own
// client: auth, tenant scoping, IPAM (gateway reserved, no duplicates,
// release, exhaustion), deterministic MACs, persistence.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TokenStore } from "../../../stand-ins/src/iam/tokens.js";
import { macFor } from "../../../stand-ins/src/novanet/ipam.js";
import { startNovanetStandIn, type NovanetStandIn } from "../../../stand-ins/src/novanet/server.js";
import type { ErrorCode } from "@plasmacloud/common/errors";
import { GrpcCallError } from "@plasmacloud/common/grpc";
import type { NovanetApi } from "../../src/novanet/api.js";
import { connectNovanet } from "../../src/novanet/client.js";

const dir = mkdtempSync(join(tmpdir(), "standin-"));
const tokens = new TokenStore()
  .add("node-tok", { name: "system:node:n1", kind: "node", orgId: "", projectId: "", nodeName: "n1" })
  .add("alice-tok", { name: "user:alice", kind: "user", orgId: "org-a", projectId: "proj-a" });
let s: NovanetStandIn;
const A = { orgId: "org-a", projectId: "proj-a" };
const B = { orgId: "org-b", projectId: "proj-b" };

function client(token: string): NovanetApi {
  const f = join(dir, `tok-${token}`);
  writeFileSync(f, token);
  return connectNovanet({ server_addr: s.address, token_file: f, timeout_ms: 3000 });
}
async function rejects(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof GrpcCallError && e.code === code);
}

before(async () => {
  s = await startNovanetStandIn({
    tokens, stateFile: join(dir, "state.json"),
    subnets: [
      { id: "a1", ...A, cidr: "10.1.0.0/29", gatewayIp: "10.1.0.1", dnsServers: ["10.1.0.53"], mtu: 1400 },
      { id: "b1", ...B, cidr: "10.2.0.0/24" },
    ],
  });
});
after(async () => {
  await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("auth: no or bad token is UNAUTHENTICATED", async () => {
  const anon = connectNovanet({ server_addr: s.address, timeout_ms: 3000 });
  await rejects(anon.getSubnet(A, "a1"), "Unauthenticated");
  anon.close();
  const bad = client("nope");
  await rejects(bad.getSubnet(A, "a1"), "Unauthenticated");
  bad.close();
});

test("subnets are tenant-scoped; gateway, DNS and MTU come back as stored", async () => {
  const n = client("node-tok");
  const sub = await n.getSubnet(A, "a1");
  assert.deepEqual([sub.cidr, sub.gatewayIp, sub.dnsServers, sub.mtu], ["10.1.0.0/29", "10.1.0.1", ["10.1.0.53"], 1400]);
  await rejects(n.getSubnet(B, "a1"), "NotFound");
  assert.deepEqual((await n.listSubnets(B)).map((x) => x.id), ["b1"]);
  const alice = client("alice-tok");
  await rejects(alice.getSubnet(B, "b1"), "NotFound"); // a user cannot name another tenant
  n.close();
  alice.close();
});

test("IPAM: gateway reserved, unique addresses, release, exhaustion, duplicates", async () => {
  const n = client("node-tok");
  const mk = (d: string) => n.createPort(A, { subnetId: "a1", deviceId: d, deviceOwner: "t", name: "net/eth0" });
  const ports = [];
  for (let i = 0; i < 5; i++) ports.push(await mk(`d${i}`)); // /29: 6 hosts minus the gateway
  assert.deepEqual(ports.map((p) => p.ipAddress), ["10.1.0.2", "10.1.0.3", "10.1.0.4", "10.1.0.5", "10.1.0.6"]);
  assert.ok(ports.every((p) => p.ipPrefixLen === 29 && p.macAddress === macFor("a1", p.ipAddress)));
  await rejects(mk("d5"), "ResourceExhausted");
  await rejects(mk("d0"), "Conflict");
  await rejects(n.createPort(B, { subnetId: "a1", deviceId: "x", deviceOwner: "t", name: "n" }), "NotFound");
  await rejects(n.createPort(A, { subnetId: "a1", deviceId: "", deviceOwner: "t", name: "n" }), "InvalidArgument");
  assert.deepEqual((await n.listPortsByDevice(A, "d3")).map((p) => p.id), [ports[3]!.id]);
  assert.deepEqual(await n.listPortsByDevice(B, "d3"), [], "other tenants see nothing");
  await n.deletePort(A, ports[2]!.id);
  await n.deletePort(A, ports[2]!.id); // already gone: still fine for the client
  assert.equal((await mk("d9")).ipAddress, "10.1.0.4", "released address is reused");
  assert.equal((await n.listPortsBySubnet(A, "a1")).length, 5);
  n.close();
});

test("state survives a restart from the state file", async () => {
  const again = await startNovanetStandIn({ tokens, stateFile: join(dir, "state.json") });
  try {
    assert.deepEqual(again.ports().map((p) => p.ipAddress).sort(), s.ports().map((p) => p.ipAddress).sort());
    assert.equal(again.subnets().length, 2);
  } finally {
    await again.stop();
  }
});
