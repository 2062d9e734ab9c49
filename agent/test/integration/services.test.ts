// Services on a bridge-mode node, for real: pods behind a Service answer on
// its cluster IP, balanced, only while ready; a node port answers on the
// node's address; rules removed by hand come back; another tenant's pods are
// refused; names resolve through the FlashDNS stand-in in the asking pod's
// tenant only; and the nftables table goes with the last Service. Checked from
// inside pods (wget, nslookup through CRI exec), from the host (HTTP, `nft
// list tables`) and in the control-plane stand-in's EndpointSlices.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createSocket } from "node:dgram";
import dnsPacket from "dns-packet";
import { CreatePodRequest, CreateServiceRequest, DeletePodRequest, DeleteServiceRequest, ListEndpointSlicesRequest, Pod, type Service } from "@plasmacloud/proto/k8shost";
import { ControlPlane } from "../../src/controlplane/client";
import { internalIP } from "../../src/node/readings";
import { startFlashDnsStandIn, storeView, type FlashDnsStandIn } from "../../../stand-ins/src/flashdns/server";
import { BUSYBOX, OTHER_TENANT_SUBNET, clusterPerFile, podRunning, startPod, waitFor, type Cluster } from "../helpers/cluster";
import { containersOf, execIn } from "../helpers/cri";

const TABLE = "k8shost-it";
const NODE_IP = internalIP();

let c: Cluster;
let userB: ControlPlane;
let dns: FlashDnsStandIn;
let upstream: ReturnType<typeof createSocket>;
clusterPerFile((started) => (c = started), { clusterDNS: [NODE_IP], extraConfig: `services: { mode: nftables, table: ${TABLE}, cleanupOnStop: true, syncSeconds: 2 }` });

before(async () => {
  // Root hooks are not awaited one after the other on every Node: wait for the cluster.
  await waitFor("the cluster", () => c, 120_000);
  // The node's upstream resolver: knows one name.
  upstream = createSocket("udp4");
  upstream.on("message", (msg, r) => {
    const q = dnsPacket.decode(msg);
    const name = q.questions![0]!.name;
    const known = name === "upstream.example" && q.questions![0]!.type === "A";
    upstream.send(dnsPacket.encode({ type: "response", id: q.id, flags: name === "upstream.example" ? 0 : 3, questions: q.questions, answers: known ? [{ name, type: "A", ttl: 30, data: "192.0.2.99" }] : [] }), r.port, r.address);
  });
  await new Promise<void>((res) => upstream.bind(0, "127.0.0.1", () => res()));
  // FlashDNS where the pods' resolv.conf points (clusterDNS): the node's address, port 53.
  dns = await startFlashDnsStandIn({ view: storeView(c.store), domain: "cluster.local", host: NODE_IP, port: 53, upstreams: [`127.0.0.1:${upstream.address().port}`] });
  c.tokens.add("user-b-token", { name: "user:bob", kind: "user", orgId: "org-b", projectId: "proj-b" });
  writeFileSync(join(c.dir, "user-b.token"), "user-b-token\n", { mode: 0o600 });
  userB = new ControlPlane(c.cp.address, join(c.dir, "user-b.token"), "", 5000);
});

/** Tenant b's pods are not the cluster helper's user's to delete: gone through the agent here. */
async function deleteTenantBPods(): Promise<void> {
  for (const p of [...c.store.pods.values()].filter((x) => x.metadata!.orgId === "org-b")) {
    await userB.call("DeletePod", userB.pods.deletePod.bind(userB.pods), DeletePodRequest.fromPartial({ ref: { namespace: p.metadata!.namespace, name: p.metadata!.name }, gracePeriodSeconds: 0n })).catch(() => undefined);
  }
  await waitFor("tenant b's pods gone", () => ![...c.store.pods.values()].some((x) => x.metadata!.orgId === "org-b"), 30_000);
}

after(async () => {
  if (userB) await deleteTenantBPods().catch(() => undefined);
  userB?.close();
  await dns?.stop();
  upstream?.close();
});

const web = (name: string) => ({
  metadata: { name, labels: { app: "web" } },
  spec: {
    terminationGracePeriodSeconds: 1n,
    containers: [{
      name: "httpd",
      image: BUSYBOX,
      ports: [{ name: "http", containerPort: 8080 }],
      command: ["sh", "-c", `mkdir -p /www && echo ${name} > /www/index.html && touch /tmp/ready && exec httpd -f -p 8080 -h /www`],
      readinessProbe: { exec: { command: ["cat", "/tmp/ready"] }, periodSeconds: 1, failureThreshold: 1 },
    }],
  },
});
const sleeper = { terminationGracePeriodSeconds: 1n, containers: [{ name: "c", image: BUSYBOX, command: ["sleep", "3600"] }] };

async function containerOf(p: Pod): Promise<string> {
  const [ctr] = await containersOf(p.metadata!.uid);
  return ctr!.id;
}

async function svc(client: ControlPlane, s: object): Promise<Service> {
  return client.call("CreateService", client.services.createService.bind(client.services), CreateServiceRequest.fromPartial({ service: s }));
}

/** wget from inside a pod: what it printed, or the error it gave. */
async function wget(ctr: string, url: string): Promise<{ ok: boolean; out: string }> {
  // busybox 1.35's wget -T crashes (static glibc); timeout bounds a connection that would hang.
  const r = await execIn(ctr, ["timeout", "5", "wget", "-qO-", url]);
  return { ok: r.exitCode === 0, out: (r.stdout + r.stderr).trim() };
}

/** The ready endpoint addresses of a Service, as the control plane's slices say. */
async function readyEndpoints(name: string): Promise<string[]> {
  const r = await c.user.call("ListEndpointSlices", c.user.endpointSlices.listEndpointSlices.bind(c.user.endpointSlices), ListEndpointSlicesRequest.fromPartial({ labelSelector: { "kubernetes.io/service-name": name } }));
  return r.items.flatMap((s) => s.endpoints).filter((e) => e.conditions?.ready).map((e) => e.addresses[0]!).sort();
}

const tables = (): string[] => execFileSync("nft", ["list", "tables"], { encoding: "utf8" }).split("\n").filter(Boolean);

let webSvc: Service;
let client: string;
let clientB: string;
let web1: Pod;
let web2: Pod;

test("a pod reaches a Service's cluster IP and is balanced across its two ready endpoints; the table is the agent's", async () => {
  webSvc = await svc(c.user, { metadata: { name: "web" }, spec: { type: "NodePort", selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http" }] } });
  [web1, web2] = await Promise.all([startPod(c, web("web-1")), startPod(c, web("web-2"))]);
  client = await containerOf(await startPod(c, { metadata: { name: "client" }, spec: sleeper }));
  await waitFor("two ready endpoints", async () => (await readyEndpoints("web")).length === 2);
  assert.deepEqual(await readyEndpoints("web"), [web1.status!.podIp, web2.status!.podIp].sort());
  const seen = new Set<string>();
  await waitFor("answers from both endpoints on the cluster IP", async () => {
    const r = await wget(client, `http://${webSvc.spec!.clusterIp}/`);
    if (!r.ok) throw new Error(`wget: ${r.out}`);
    seen.add(r.out);
    return seen.size === 2;
  }, 60_000, 100);
  assert.deepEqual([...seen].sort(), ["web-1", "web-2"]);
  assert.ok(tables().includes(`table ip ${TABLE}`), `nft list tables shows table ip ${TABLE}`);
});

test("an endpoint that turns unready leaves the rotation, and comes back when ready again", async () => {
  await execIn(await containerOf(web2), ["rm", "/tmp/ready"]);
  await waitFor("web-2 out of the slice's ready endpoints", async () => (await readyEndpoints("web")).length === 1);
  // The table follows the slice; then every new connection goes to web-1.
  await waitFor("only web-1 answering", async () => {
    for (let i = 0; i < 10; i++) if ((await wget(client, `http://${webSvc.spec!.clusterIp}/`)).out !== "web-1") return false;
    return true;
  }, 30_000, 100);
  await execIn(await containerOf(web2), ["touch", "/tmp/ready"]);
  await waitFor("web-2 answering again", async () => (await wget(client, `http://${webSvc.spec!.clusterIp}/`)).out === "web-2", 30_000, 100);
});

test("ClientIP session affinity keeps a client on one endpoint", async () => {
  const sticky = await svc(c.user, { metadata: { name: "sticky" }, spec: { selector: { app: "web" }, sessionAffinity: "ClientIP", ports: [{ port: 80, targetPort: "http" }] } });
  const first = await waitFor("the sticky Service answering", async () => {
    const r = await wget(client, `http://${sticky.spec!.clusterIp}/`);
    return r.ok ? r.out : undefined;
  });
  for (let i = 0; i < 10; i++) assert.equal((await wget(client, `http://${sticky.spec!.clusterIp}/`)).out, first, `request ${i + 2} went to the same endpoint`);
  await c.user.call("DeleteService", c.user.services.deleteService.bind(c.user.services), DeleteServiceRequest.fromPartial({ ref: { name: "sticky" } }));
});

test("the NodePort answers on the node's address, from the host", async () => {
  const nodePort = webSvc.spec!.ports[0]!.nodePort;
  const node = c.store.nodes.get(c.nodeName)!;
  const address = node.status!.addresses.find((a) => a.type === "InternalIP")!.address;
  assert.equal(address, NODE_IP);
  const body = await waitFor("the node port answering", async () => {
    const res = await fetch(`http://${address}:${nodePort}/`, { signal: AbortSignal.timeout(3000) });
    return res.ok ? (await res.text()).trim() : undefined;
  });
  assert.match(body, /^web-[12]$/);
});

test("a chain and a map emptied by hand are written again by the periodic check", async () => {
  const chain = (): string => execFileSync("nft", ["list", "chain", "ip", TABLE, "services"], { encoding: "utf8" });
  const nodePorts = (): string => execFileSync("nft", ["list", "map", "ip", TABLE, "service-nodeports"], { encoding: "utf8" });
  const nodePort = webSvc.spec!.ports[0]!.nodePort;
  assert.match(chain(), /vmap @service-nodeports/);
  // One transaction, so the agent's check (every 2 s here) sees both or neither; it may well restore them before the
  // next line could look, so the emptied state is not asserted: execFileSync throws if nft did not do it.
  execFileSync("nft", ["-f", "-"], { input: `flush chain ip ${TABLE} services\nflush map ip ${TABLE} service-nodeports\n` });
  await waitFor("the services chain and node port map written again", () => /vmap @service-nodeports/.test(chain()) && nodePorts().includes(`. ${nodePort} :`), 20_000);
  assert.ok((await wget(client, `http://${webSvc.spec!.clusterIp}/`)).ok, "the cluster IP answers again");
  const res = await fetch(`http://${NODE_IP}:${nodePort}/`, { signal: AbortSignal.timeout(3000) });
  assert.match((await res.text()).trim(), /^web-[12]$/, "the node port answers again");
});

test("another tenant's pod is refused on the cluster IP (at once, not timed out); a Service without endpoints refuses too", async () => {
  const b = await userB.call("CreatePod", userB.pods.createPod.bind(userB.pods), CreatePodRequest.fromPartial({
    pod: { metadata: { name: "intruder", annotations: { "plasmacloud.io/subnet-id": OTHER_TENANT_SUBNET } }, spec: { ...sleeper, nodeName: c.nodeName } },
  }));
  const running = await waitFor("b's pod running", async () => {
    const p = c.store.getPod(`org-b/proj-b/default/intruder`);
    return p?.status?.phase === "Running" && p.status.podIp ? p : undefined;
  }, 60_000);
  assert.equal(running.metadata!.uid, b.metadata!.uid);
  clientB = await containerOf(running);
  // b is a tenant of the node now: its pod IP is in the table, and still a's cluster IP is not for it.
  await waitFor("b's pod known to the table", () => execFileSync("nft", ["list", "table", "ip", TABLE], { encoding: "utf8" }).includes(running.status!.podIp));
  const r = await wget(clientB, `http://${webSvc.spec!.clusterIp}/`);
  assert.equal(r.ok, false, r.out);
  assert.match(r.out, /refused/i, "rejected (ICMP port unreachable), not dropped");
  assert.ok((await wget(client, `http://${webSvc.spec!.clusterIp}/`)).ok, "a's own pod still gets through");

  const empty = await svc(c.user, { metadata: { name: "empty" }, spec: { selector: { app: "nobody" }, ports: [{ port: 80 }] } });
  await waitFor("the empty Service refused", async () => /refused/i.test((await wget(client, `http://${empty.spec!.clusterIp}/`)).out), 20_000);
  await c.user.call("DeleteService", c.user.services.deleteService.bind(c.user.services), DeleteServiceRequest.fromPartial({ ref: { name: "empty" } }));
});

test("names resolve through FlashDNS in the pod's own tenant: wget by name works, another tenant's name is NXDOMAIN, other names are forwarded", async () => {
  const r = await wget(client, "http://web.default.svc.cluster.local/");
  assert.ok(r.ok, r.out);
  assert.match(r.out, /^web-[12]$/);
  const short = await wget(client, "http://web/");
  assert.ok(short.ok, `the search path finds web.default.svc: ${short.out}`);
  const nx = await execIn(clientB, ["nslookup", "web.default.svc.cluster.local"]);
  assert.notEqual(nx.exitCode, 0);
  assert.match(nx.stdout + nx.stderr, /NXDOMAIN/);
  const fwd = await execIn(client, ["nslookup", "upstream.example"]);
  assert.match(fwd.stdout, /192\.0\.2\.99/, fwd.stdout + fwd.stderr);
});

test("the table is gone once the Services are", async () => {
  await deleteTenantBPods();
  await c.user.call("DeleteService", c.user.services.deleteService.bind(c.user.services), DeleteServiceRequest.fromPartial({ ref: { name: "web" } }));
  await waitFor("the table removed", () => !tables().includes(`table ip ${TABLE}`), 20_000);
  const r = await wget(client, `http://${webSvc.spec!.clusterIp}/`);
  assert.equal(r.ok, false, "nothing answers on the old cluster IP");
  await podRunning(c, "client");
});
