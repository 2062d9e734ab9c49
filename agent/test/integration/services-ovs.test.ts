// Node ports in novanet's ovs mode, for real (issue #15). Pods sit on OVN's
// br-int, where cluster IPs are OVN's load balancers; what arrives at the node
// is the agent's own nftables table (services/, `auto` in ovs mode too):
// node ports from the host itself, from a client outside the node (a netns on
// a veth of its own), and from a pod, which reaches the node at its address on
// the management network (OVN's management router, then the node management
// port). Pods are netns attached by the real novanet executable (ovs mode,
// with the management port), backends serving in them, registered in the
// control-plane stand-in as their user and node would; the agent's
// ServiceProxy and PodSource watch it as the node. Checked from outside: who
// answered, the source the backends saw, `nft list tables`; with strict
// rp_filter on the node's interfaces of the path.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateServiceRequest, type Service } from "@plasmacloud/proto/k8shost";
import { silentLogger } from "@plasmacloud/common/log";
import { ControlPlane } from "../../src/controlplane/client";
import { PodSource } from "../../src/controlplane/podsource";
import { internalIP } from "../../src/node/readings";
import { defaultServicesConfig } from "../../src/services/config";
import { NftTable } from "../../src/services/nft";
import { ServiceProxy } from "../../src/services/proxy";
import { hostVethName } from "../../../cni-plugin/src/plumbing/names";
import { ensureBuilt } from "../../../cni-plugin/test/helpers/build";
import { exec, sh } from "../../../cni-plugin/test/helpers/exec";
import { createNetns, deleteAllNetns } from "../../../cni-plugin/test/helpers/netns";
import { startFixture, type Fixture } from "../../../cni-plugin/test/helpers/novanet";
import { OVN_NB, ensureOvn, waitBound } from "../../../cni-plugin/test/helpers/ovn";
import { OVSDB } from "../../../cni-plugin/test/helpers/ovs";
import { describeRun, verb } from "../../../cni-plugin/test/helpers/plugin";
import { startControlPlaneStandIn, type ControlPlaneStandIn } from "../../../stand-ins/src/controlplane/server";
import { TokenStore } from "../../../stand-ins/src/iam/tokens";
import { MANAGEMENT_TENANT } from "../../../stand-ins/src/novanet/ovn-mgmt";
import type { SubnetInput } from "../../../stand-ins/src/novanet/store";
import { deleteService, registerPod, serve, stopServers, waitFor, type Tally } from "../../../stand-ins/test/integration/ovn-lb-env";

const NODE_IP = internalIP(); // read before this file adds any interface
const NODE = "n-ovs-np";
const TABLE = "k8shost-ovs-it";
const PORT = 8080;
const pid = process.pid;
const MP = `nvsp${pid % 10000}`;
const MGMT_ID = `mgmt-np-${pid}`;
const TENANT = { orgId: "org-np", projectId: "proj-np" };
const S1: SubnetInput = { id: `np-1-${pid}`, ...TENANT, cidr: "10.213.70.0/24", gatewayIp: "10.213.70.1" };
const S2: SubnetInput = { id: `np-2-${pid}`, ...TENANT, cidr: "10.213.71.0/24", gatewayIp: "10.213.71.1" };
/** The outside client's link to the node: a /30 of its own, nothing of OVN's. */
const OUT = { host: "10.213.72.1", client: "10.213.72.2", hostIf: `npo${pid % 100000}` };
const PEER = new URL("../../../stand-ins/test/integration/ovn-lb-peer.mjs", import.meta.url).pathname;

const dir = mkdtempSync(join(tmpdir(), "services-ovs-"));
const tokens = new TokenStore()
  .add("np-user", { name: "user:np", kind: "user", ...TENANT })
  .add("np-node", { name: `system:node:${NODE}`, kind: "node", orgId: "", projectId: "", nodeName: NODE });
let cp: ControlPlaneStandIn;
let fx: Fixture;
let user: ControlPlane;
let node: ControlPlane;
let proxy: ServiceProxy | undefined;
let proxyRun: Promise<void> | undefined;
let source: PodSource | undefined;
let outside = "";
const squatters: (Server | Socket)[] = [];
interface NetPod { ns: string; containerId: string; subnet: SubnetInput; ip: string; host: string }
const pods: Record<string, NetPod> = {};
const svcs: Record<string, Service> = {};

const client = (name: string): ControlPlane => {
  writeFileSync(join(dir, name), `${name}\n`, { mode: 0o600 });
  return new ControlPlane(cp.address, join(dir, name), "", 5000);
};
const ovnConf = { installed_timeout_ms: 10_000, management: { org_id: MANAGEMENT_TENANT.orgId, project_id: MANAGEMENT_TENANT.projectId, subnet_id: MGMT_ID, ifname: MP } };
const conf = (s: SubnetInput): Record<string, unknown> => fx.conf({ mode: "ovs", ovsdb: OVSDB, org_id: s.orgId, project_id: s.projectId, subnet_id: s.id, ovn: ovnConf });

/** A netns attached by novanet ADD in subnet `s` (the first ADD makes the management port). */
async function addPod(tag: string, s: SubnetInput): Promise<void> {
  const ns = await createNetns(tag);
  const containerId = `np${tag}-${pid}`;
  const r = await verb("ADD", conf(s), containerId, ns.path);
  assert.equal(r.code, 0, describeRun(r));
  const port = fx.novanet.ports().find((p) => p.deviceId === containerId)!;
  pods[tag] = { ns: ns.name, containerId, subnet: s, ip: port.ipAddress, host: hostVethName(containerId, "eth0") };
}

type Seen = Tally & { from: Record<string, number> };
/** `count` TCP connections or UDP requests to host:port from the host netns itself (`ns` ""), or from inside netns `ns`. */
async function probeFrom(ns: string, proto: "tcp" | "udp", host: string, port: number, count: number): Promise<Seen> {
  const args = [PEER, proto, host, String(port), String(count)];
  // A bare environment: no NODE_OPTIONS (the test runner's loader) in the peer.
  const env = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
  const r = ns ? await exec("ip", ["netns", "exec", ns, process.execPath, ...args], { env }) : await exec(process.execPath, args, { env });
  if (r.code !== 0) throw new Error(`probe from ${ns || "the host"}: exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Seen;
}
const tally = ({ answers, errors }: Tally): Tally => ({ answers, errors });

const nodePort = (s: Service, proto: "TCP" | "UDP"): number => s.spec!.ports.find((p) => (p.protocol || "TCP") === proto)!.nodePort;
/** The node's address on the management network: nvmp's, what masquerading out of it uses. */
const mgmtIP = (): string => fx.novanet.ports().find((p) => p.subnetId === MGMT_ID)!.ipAddress;
const tables = async (): Promise<string[]> => (await sh("nft", "list", "tables")).split("\n").filter(Boolean);

function nodePortService(name: string, selector: Record<string, string>): Promise<Service> {
  const service = {
    metadata: { name, namespace: "default" },
    spec: { type: "NodePort", selector, ports: [{ name: "http", port: 80, targetPort: "http" }, { name: "dns", port: 53, protocol: "UDP", targetPort: "dns" }] },
  };
  return user.call("CreateService", user.services.createService.bind(user.services), CreateServiceRequest.fromPartial({ service }));
}

/** Strict reverse-path filtering on the node's side of the path: replies and pods' traffic come in where their routes go out. */
const strictRpFilter = (ifname: string): Promise<string> => sh("sysctl", "-qw", `net.ipv4.conf.${ifname}.rp_filter=1`);

before(async () => {
  ensureBuilt();
  ensureOvn();
  cp = await startControlPlaneStandIn({ tokens });
  fx = await startFixture([S1, S2], { ovn: { nbDb: OVN_NB, prefix: `np${pid}` }, management: { id: MGMT_ID, cidr: "100.64.217.0/24", linkCidr: "100.65.217.0/24" } });
  [user, node] = [client("np-user"), client("np-node")];
  // w1, w2 (on the other subnet): backends; w3: a backend never ready; cl: a client pod of the tenant.
  const layout = [["w1", S1, { app: "web" }, true], ["w2", S2, { app: "web" }, true], ["w3", S1, { app: "web", role: "spare" }, false], ["cl", S1, {}, true]] as const;
  for (const [tag, s] of layout) await addPod(tag, s);
  await waitBound(fx.novanet.ports().map((p) => p.id));
  for (const [tag, s, labels, ready] of layout) {
    await serve(pods[tag]!.ns, tag, PORT);
    await registerPod(user, node, NODE, { orgId: s.orgId, projectId: s.projectId, name: tag, ip: pods[tag]!.ip }, { ...labels }, ready);
  }
  // The outside client: a netns behind a veth of its own, the node its default gateway.
  outside = (await createNetns("np-out")).name;
  await sh("ip", "link", "add", OUT.hostIf, "type", "veth", "peer", "name", "eth0", "netns", outside);
  await sh("ip", "addr", "add", `${OUT.host}/30`, "dev", OUT.hostIf);
  await sh("ip", "link", "set", OUT.hostIf, "up");
  await sh("ip", "-n", outside, "addr", "add", `${OUT.client}/30`, "dev", "eth0");
  await sh("ip", "-n", outside, "link", "set", "eth0", "up");
  await sh("ip", "-n", outside, "route", "add", "default", "via", OUT.host);
  for (const i of [MP, OUT.hostIf]) await strictRpFilter(i);
  // The agent's Services loop as start.ts wires it, its pod source teeing pods into it (agent.ts).
  const cfg = { ...defaultServicesConfig(), table: TABLE, cleanupOnStop: true, syncSeconds: 5 };
  proxy = new ServiceProxy({ cp: node, nodeName: NODE, cfg, log: silentLogger, resyncMs: 5000, nft: new NftTable(TABLE), bridged: false });
  source = new PodSource(node, NODE, proxy.pods.tee({ upsert: () => undefined, remove: () => undefined, synced: () => undefined }), silentLogger, 5000);
  proxyRun = proxy.run();
  void source.run();
  svcs.web = await nodePortService("web", { app: "web" });
  svcs.idle = await nodePortService("idle", { role: "spare" }); // its one pod is never ready
});

after(async () => {
  for (const s of squatters) s.close();
  source?.stop();
  proxy?.stop();
  await proxyRun?.catch(() => undefined);
  await exec("nft", ["delete", "table", "ip", TABLE]);
  await stopServers();
  for (const p of Object.values(pods)) {
    await verb("DEL", conf(p.subnet), p.containerId, `/var/run/netns/${p.ns}`).catch(() => undefined);
    await exec("ip", ["link", "del", p.host]);
  }
  await exec("ip", ["link", "del", OUT.hostIf]);
  await deleteAllNetns();
  // The node's teardown: the management port's routes go with it.
  await exec("ovs-vsctl", [`--db=${OVSDB}`, "--timeout=10", "--if-exists", "del-port", "br-int", MP]);
  for (const c of [user, node]) c?.close();
  await cp?.stop();
  await fx?.close();
  rmSync(dir, { recursive: true, force: true });
});

const BOTH = { answers: ["w1", "w2"], errors: {} };
const who = (t: Tally): { answers: string[]; errors: Record<string, number> } => ({ answers: Object.keys(t.answers).sort(), errors: t.errors });

describe("node ports in ovs mode: the agent's table in front of OVN's pods", () => {
  test("from the host: TCP and UDP to the node's address are balanced over both ready backends, never the unready one, masqueraded out of the management port", async () => {
    const [tcp, udp] = [nodePort(svcs.web!, "TCP"), nodePort(svcs.web!, "UDP")];
    await waitFor("the node port answering", async () => Object.keys((await probeFrom("", "tcp", NODE_IP, tcp, 1)).answers).length === 1, 30_000);
    const t = await probeFrom("", "tcp", NODE_IP, tcp, 24);
    assert.deepEqual(who(t), BOTH, JSON.stringify(t));
    assert.deepEqual(t.from, { [mgmtIP()]: 24 }, "the backends saw the management port's address");
    const u = await probeFrom("", "udp", NODE_IP, udp, 24);
    assert.deepEqual(who(u), BOTH, JSON.stringify(u));
    assert.ok((await tables()).includes(`table ip ${TABLE}`), `nft list tables shows table ip ${TABLE}`);
  });

  test("from a client outside the node: both backends answer, and see the node's management address, not the client's", async () => {
    const t = await probeFrom(outside, "tcp", NODE_IP, nodePort(svcs.web!, "TCP"), 24);
    assert.deepEqual(who(t), BOTH, JSON.stringify(t));
    assert.deepEqual(t.from, { [mgmtIP()]: 24 }, "masqueraded: replies come back through the node");
    const u = await probeFrom(outside, "udp", NODE_IP, nodePort(svcs.web!, "UDP"), 24);
    assert.deepEqual(who(u), BOTH, JSON.stringify(u));
    assert.deepEqual(u.from, { [mgmtIP()]: 24 });
  });

  test("from a pod of the tenant: the node port on the node's management address (pod, OVN, management port, host, DNAT, back)", async () => {
    const t = await probeFrom(pods.cl!.ns, "tcp", mgmtIP(), nodePort(svcs.web!, "TCP"), 24);
    assert.deepEqual(who(t), BOTH, JSON.stringify(t));
    assert.deepEqual(t.from, { [mgmtIP()]: 24 }, "masqueraded, so the backend's reply goes back through the node, not straight to the pod");
    assert.deepEqual(who(await probeFrom(pods.cl!.ns, "udp", mgmtIP(), nodePort(svcs.web!, "UDP"), 24)), BOTH);
    // A backend reaching itself through the node port (hairpin) works the same way.
    assert.deepEqual(who(await probeFrom(pods.w1!.ns, "tcp", mgmtIP(), nodePort(svcs.web!, "TCP"), 24)), BOTH);
  });

  test("a node port without ready endpoints is refused at once, even with a host process listening on it", async () => {
    const [tcp, udp] = [nodePort(svcs.idle!, "TCP"), nodePort(svcs.idle!, "UDP")];
    // Without the table's reject these listeners would answer: the refusal is the table's (kube-proxy's nodeport-endpoints-check).
    const squatter = createServer((c) => c.end("squatter\n"));
    const squatterUdp = createSocket("udp4").on("message", (_m, from) => squatterUdp.send("squatter", from.port, from.address));
    squatters.push(squatter, squatterUdp);
    await new Promise<void>((res, rej) => squatter.once("error", rej).listen(tcp, "0.0.0.0", () => res()));
    await new Promise<void>((res, rej) => squatterUdp.once("error", rej).bind(udp, "0.0.0.0", () => res()));
    assert.deepEqual(tally(await probeFrom("", "tcp", NODE_IP, tcp, 3)), { answers: {}, errors: { ECONNREFUSED: 3 } }, "from the host");
    assert.deepEqual(tally(await probeFrom(outside, "tcp", NODE_IP, tcp, 3)), { answers: {}, errors: { ECONNREFUSED: 3 } }, "from outside");
    assert.deepEqual(tally(await probeFrom("", "udp", NODE_IP, udp, 3)), { answers: {}, errors: { ECONNREFUSED: 3 } }, "UDP from the host");
  });

  test("a deleted Service's node port stops answering; stopping the proxy with cleanupOnStop removes the table", async () => {
    const tcp = nodePort(svcs.web!, "TCP");
    await deleteService(user, "web");
    await waitFor("web's node port refused", async () => (await probeFrom("", "tcp", NODE_IP, tcp, 1)).errors.ECONNREFUSED === 1, 30_000);
    assert.deepEqual(tally(await probeFrom(outside, "tcp", NODE_IP, tcp, 3)), { answers: {}, errors: { ECONNREFUSED: 3 } }, "from outside");
    assert.ok((await tables()).includes(`table ip ${TABLE}`), "the table stays while Service idle needs it");
    proxy!.stop();
    await proxyRun;
    proxy = undefined;
    assert.ok(!(await tables()).includes(`table ip ${TABLE}`), "gone on stop");
  });
});
