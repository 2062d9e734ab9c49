// The FlashDNS stand-in over real UDP and TCP on loopback: pods are told apart
// by source address (127.0.0.2 is a pod of tenant a, 127.0.0.3 one of b), the
// objects come from the control-plane stand-in, other names go to a fake
// upstream resolver.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import dnsPacket, { type Answer, type DecodedPacket, type SrvData } from "dns-packet";
import { CreateEndpointSliceRequest, CreatePodRequest, CreateServiceRequest, UpdatePodStatusRequest, type Service } from "@plasmacloud/proto/k8shost";
import { ControlPlane } from "../../../agent/src/controlplane/client";
import { TokenStore } from "../../src/iam/tokens";
import { startControlPlaneStandIn } from "../../src/controlplane/server";
import { startFlashDnsStandIn, storeView, type FlashDnsStandIn } from "../../src/flashdns/server";

const A_POD = "127.0.0.2";
const B_POD = "127.0.0.3";
const NOBODY = "127.0.0.9";

/** A resolver standing in for the node's upstream: example.com has an address, nothing else exists. */
async function fakeUpstream(): Promise<{ port: number; stop: () => void }> {
  const sock = createSocket("udp4");
  sock.on("message", (msg, r) => {
    const q = dnsPacket.decode(msg);
    const name = q.questions![0]!.name;
    const known = name === "example.com";
    const out = dnsPacket.encode({ type: "response", id: q.id, flags: known ? 0 : 3, questions: q.questions, answers: known ? [{ name, type: "A", ttl: 60, data: "192.0.2.99" }] : [] });
    sock.send(out, r.port, r.address);
  });
  await new Promise<void>((res) => sock.bind(0, "127.0.0.1", () => res()));
  return { port: sock.address().port, stop: () => sock.close() };
}

function query(dns: FlashDnsStandIn, from: string, name: string, type: "A" | "AAAA" | "SRV" = "A"): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const sock = createSocket("udp4");
    const timer = setTimeout(() => (sock.close(), reject(new Error(`no answer for ${name}`))), 3000);
    sock.on("message", (msg) => {
      clearTimeout(timer);
      sock.close();
      resolve(dnsPacket.decode(msg));
    });
    sock.bind(0, from, () => sock.send(dnsPacket.encode({ type: "query", id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] }), dns.port, dns.host));
  });
}

function queryTcp(dns: FlashDnsStandIn, from: string, name: string, type: "A" | "SRV" = "A"): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const c = connect({ port: dns.port, host: dns.host, localAddress: from });
    let buf = Buffer.alloc(0);
    c.on("error", reject);
    c.on("connect", () => c.write(dnsPacket.streamEncode({ type: "query", id: 9, questions: [{ type, name }] })));
    c.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        c.destroy();
        resolve(dnsPacket.decode(buf.subarray(2)));
      }
    });
  });
}

const rcode = (p: DecodedPacket): number => (p.flags ?? 0) & 15;
const dataOf = (a: Answer): unknown => ("data" in a ? a.data : undefined);
const addresses = (p: DecodedPacket): string[] => (p.answers ?? []).filter((a) => a.type === "A").map((a) => dataOf(a) as string).sort();

test("FlashDNS answers a pod's own tenant only, A/SRV/headless names as the Kubernetes DNS spec, and forwards the rest", async () => {
  const tokens = new TokenStore()
    .add("a", { name: "user:a", kind: "user", orgId: "oa", projectId: "p" })
    .add("b", { name: "user:b", kind: "user", orgId: "ob", projectId: "p" })
    .add("n", { name: "system:node:n1", kind: "node", orgId: "", projectId: "", nodeName: "n1" });
  const cp = await startControlPlaneStandIn({ tokens });
  const dir = mkdtempSync(join(tmpdir(), "flashdns-"));
  const client = (tok: string): ControlPlane => (writeFileSync(join(dir, tok), tok), new ControlPlane(cp.address, join(dir, tok), "", 5000));
  const [a, b, node] = [client("a"), client("b"), client("n")];
  const upstream = await fakeUpstream();
  const dns = await startFlashDnsStandIn({ view: storeView(cp.store), domain: "cluster.local", upstreams: [`127.0.0.1:${upstream.port}`] });
  try {
    const pod = async (c: ControlPlane, name: string, ip: string, ready: boolean, spec: object = {}, labels: Record<string, string> = {}): Promise<void> => {
      const p = await c.call("CreatePod", c.pods.createPod.bind(c.pods), CreatePodRequest.fromPartial({ pod: { metadata: { name, labels }, spec: { nodeName: "n1", containers: [{ name: "c", image: "i", ports: [{ name: "pg", containerPort: 5432 }] }], ...spec } } }));
      const m = p.metadata!;
      await node.call("UpdatePodStatus", node.pods.updatePodStatus.bind(node.pods), UpdatePodStatusRequest.fromPartial({ ref: { orgId: m.orgId, projectId: m.projectId, name }, status: { phase: "Running", podIp: ip, conditions: [{ type: "Ready", status: ready ? "True" : "False" }] } }));
    };
    const svc = (c: ControlPlane, s: object): Promise<Service> => c.call("CreateService", c.services.createService.bind(c.services), CreateServiceRequest.fromPartial({ service: s }));
    await pod(a, "client", A_POD, true);
    await pod(b, "client", B_POD, true);
    const webA = await svc(a, { metadata: { name: "web" }, spec: { ports: [{ name: "http", port: 80 }] } });
    const webB = await svc(b, { metadata: { name: "web" }, spec: { ports: [{ name: "http", port: 80 }] } });
    await svc(a, { metadata: { name: "only-a", namespace: "shop" }, spec: { ports: [{ port: 80 }] } });
    await svc(a, { metadata: { name: "db" }, spec: { clusterIp: "None", selector: { app: "db" }, ports: [{ name: "pg", port: 5432, targetPort: "pg" }] } });
    await pod(a, "db-0", "10.77.0.10", true, { hostname: "db-0", subdomain: "db" }, { app: "db" });
    await pod(a, "db-1", "10.77.0.11", true, {}, { app: "db" });
    await pod(a, "db-2", "10.77.0.12", false, {}, { app: "db" });

    let r = await query(dns, A_POD, "web.default.svc.cluster.local");
    assert.equal(rcode(r), 0);
    assert.ok(r.flag_aa, "authoritative for the cluster zone");
    assert.deepEqual(addresses(r), [webA.spec!.clusterIp]);
    assert.deepEqual(addresses(await query(dns, B_POD, "web.default.svc.cluster.local")), [webB.spec!.clusterIp], "the same name is b's own Service for b");
    assert.deepEqual(addresses(await query(dns, A_POD, "only-a.shop.svc.cluster.local")), [(await a.call("GetService", a.services.getService.bind(a.services), { ref: { orgId: "", projectId: "", namespace: "shop", name: "only-a" } })).spec!.clusterIp]);
    r = await query(dns, B_POD, "only-a.shop.svc.cluster.local");
    assert.equal(rcode(r), 3, "another tenant's Service is NXDOMAIN");
    assert.equal(r.authorities?.[0]?.type, "SOA");
    assert.equal(rcode(await query(dns, NOBODY, "web.default.svc.cluster.local")), 3, "a source that is no pod learns nothing");
    assert.equal(rcode(await query(dns, A_POD, "nope.default.svc.cluster.local")), 3);
    assert.equal(rcode(await query(dns, A_POD, "web.default.svc.cluster.local.default.svc.cluster.local")), 3, "a search-path expansion");
    r = await query(dns, A_POD, "web.default.svc.cluster.local", "AAAA");
    assert.deepEqual([rcode(r), r.answers?.length], [0, 0], "an existing name without IPv6 is NODATA, not NXDOMAIN");

    r = await query(dns, A_POD, "_http._tcp.web.default.svc.cluster.local", "SRV");
    assert.deepEqual(r.answers?.map((x) => dataOf(x) as SrvData), [{ priority: 0, weight: 100, port: 80, target: "web.default.svc.cluster.local" }]);
    assert.deepEqual(addresses({ ...r, answers: r.additionals } as DecodedPacket), [webA.spec!.clusterIp]);
    assert.equal(rcode(await query(dns, A_POD, "_nope._tcp.web.default.svc.cluster.local", "SRV")), 3);

    assert.deepEqual(addresses(await query(dns, A_POD, "db.default.svc.cluster.local")), ["10.77.0.10", "10.77.0.11"], "headless: the ready endpoints");
    assert.deepEqual(addresses(await query(dns, A_POD, "db-0.db.default.svc.cluster.local")), ["10.77.0.10"], "a pod by hostname.subdomain");
    assert.deepEqual(addresses(await query(dns, A_POD, "10-77-0-11.db.default.svc.cluster.local")), ["10.77.0.11"]);
    assert.equal(rcode(await query(dns, A_POD, "10-77-0-12.db.default.svc.cluster.local")), 3, "an unready endpoint has no name");
    r = await query(dns, A_POD, "_pg._tcp.db.default.svc.cluster.local", "SRV");
    assert.deepEqual(r.answers?.map((x) => (dataOf(x) as SrvData).target).sort(), ["10-77-0-11.db.default.svc.cluster.local", "db-0.db.default.svc.cluster.local"]);
    assert.ok(r.answers?.every((x) => (dataOf(x) as SrvData).port === 5432));

    r = await query(dns, A_POD, "example.com");
    assert.deepEqual(addresses(r), ["192.0.2.99"], "forwarded to the upstream");
    assert.equal(rcode(await query(dns, A_POD, "nothing.example")), 3);
    assert.deepEqual(addresses(await queryTcp(dns, A_POD, "web.default.svc.cluster.local")), [webA.spec!.clusterIp], "TCP");

    // 40 addresses do not fit 512 bytes: truncated over UDP, whole over TCP.
    await svc(a, { metadata: { name: "many" }, spec: { clusterIp: "None", ports: [{ port: 80 }] } });
    const endpoints = Array.from({ length: 40 }, (_, i) => ({ addresses: [`10.77.1.${i + 1}`] }));
    await a.call("CreateEndpointSlice", a.endpointSlices.createEndpointSlice.bind(a.endpointSlices), CreateEndpointSliceRequest.fromPartial({ endpointSlice: { metadata: { name: "many-1", labels: { "kubernetes.io/service-name": "many" } }, endpoints, ports: [{ port: 80 }] } }));
    r = await query(dns, A_POD, "many.default.svc.cluster.local");
    assert.ok(r.flag_tc, "truncated");
    assert.equal((await queryTcp(dns, A_POD, "many.default.svc.cluster.local")).answers?.length, 40);
  } finally {
    await dns.stop();
    upstream.stop();
    for (const c of [a, b, node]) c.close();
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("with no upstream answering, other names get SERVFAIL rather than silence", async () => {
  const cp = await startControlPlaneStandIn({ tokens: new TokenStore() });
  const dns = await startFlashDnsStandIn({ view: storeView(cp.store), upstreams: ["127.0.0.1:9"] });
  try {
    const r = await query(dns, "127.0.0.1", "example.com");
    assert.equal(rcode(r), 2);
  } finally {
    await dns.stop();
    await cp.stop();
  }
});
