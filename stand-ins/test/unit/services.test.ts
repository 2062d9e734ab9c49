// Services and EndpointSlices in the control-plane stand-in, over gRPC as the
// agent and the CLI meet them: allocation of cluster IPs and node ports,
// validation naming the field, tenancy (users, and nodes by the tenants they
// host), the endpoints controller's slices from ready pods, and watches.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateEndpointSliceRequest,
  CreatePodRequest,
  CreateServiceRequest,
  DeletePodRequest,
  DeleteServiceRequest,
  GetServiceRequest,
  ListEndpointSlicesRequest,
  ListServicesRequest,
  UpdatePodStatusRequest,
  WatchEvent_Type,
  WatchServicesRequest,
  type EndpointSlice,
  type Pod,
  type Service,
  type ServiceWatchEvent,
} from "@plasmacloud/proto/k8shost";
import { errorCode } from "@plasmacloud/common/errors";
import { ControlPlane } from "../../../agent/src/controlplane/client";
import { TokenStore } from "../../src/iam/tokens";
import { startControlPlaneStandIn } from "../../src/controlplane/server";
import { parseIPv4 } from "../../src/controlplane/services-alloc";

async function setup() {
  const tokens = new TokenStore()
    .add("alice", { name: "user:alice", kind: "user", orgId: "o1", projectId: "p1" })
    .add("bob", { name: "user:bob", kind: "user", orgId: "o2", projectId: "p2" })
    .add("node1", { name: "system:node:n1", kind: "node", orgId: "", projectId: "", nodeName: "n1" });
  const cp = await startControlPlaneStandIn({ tokens });
  const dir = mkdtempSync(join(tmpdir(), "cp-svc-"));
  const client = (tok: string): ControlPlane => {
    writeFileSync(join(dir, tok), tok);
    return new ControlPlane(cp.address, join(dir, tok), "", 5000);
  };
  const clients = { alice: client("alice"), bob: client("bob"), node: client("node1") };
  const stop = async (): Promise<void> => {
    for (const c of Object.values(clients)) c.close();
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return { stop, cp, ...clients };
}

type C = ControlPlane;
const code = async (p: Promise<unknown>): Promise<string> => p.then(() => "ok", (e: unknown) => errorCode(e));
const createSvc = (c: C, svc: object): Promise<Service> => c.call("CreateService", c.services.createService.bind(c.services), CreateServiceRequest.fromPartial({ service: svc }));
const listSvc = (c: C, req: object = {}): Promise<Service[]> => c.call("ListServices", c.services.listServices.bind(c.services), ListServicesRequest.fromPartial(req)).then((r) => r.items);
const slicesOf = (c: C, name: string, req: object = {}): Promise<EndpointSlice[]> =>
  c.call("ListEndpointSlices", c.endpointSlices.listEndpointSlices.bind(c.endpointSlices), ListEndpointSlicesRequest.fromPartial({ labelSelector: { "kubernetes.io/service-name": name }, ...req })).then((r) => r.items);
const web = (name = "web", extra: object = {}) => ({ metadata: { name }, spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: "http" }], ...extra } });

async function createPod(c: C, name: string, opts: { labels?: Record<string, string>; node?: string; port?: string } = {}): Promise<Pod> {
  const ports = opts.port ? [{ name: opts.port, containerPort: 8080 }] : [];
  return c.call("CreatePod", c.pods.createPod.bind(c.pods), CreatePodRequest.fromPartial({ pod: { metadata: { name, labels: opts.labels ?? { app: "web" } }, spec: { nodeName: opts.node ?? "n1", containers: [{ name: "c", image: "i", ports }] } } }));
}

/** The node reports the pod running with an IP, Ready or not. */
async function report(node: C, pod: Pod, ip: string, ready: boolean): Promise<void> {
  const m = pod.metadata!;
  const conditions = [{ type: "Ready", status: ready ? "True" : "False" }];
  await node.call("UpdatePodStatus", node.pods.updatePodStatus.bind(node.pods), UpdatePodStatusRequest.fromPartial({ ref: { orgId: m.orgId, projectId: m.projectId, namespace: m.namespace, name: m.name }, status: { phase: "Running", podIp: ip, conditions } }));
}

test("a Service gets a cluster IP from 10.96.0.0/16 and the API server's defaults; NodePorts get node ports; conflicts and bad fields are named", async () => {
  const { stop, alice, bob } = await setup();
  try {
    const s = await createSvc(alice, web());
    const ip = parseIPv4(s.spec!.clusterIp)!;
    assert.ok(ip >= parseIPv4("10.96.0.1")! && ip <= parseIPv4("10.96.255.254")!, s.spec!.clusterIp);
    assert.deepEqual(s.spec!.clusterIps, [s.spec!.clusterIp]);
    assert.equal(s.spec!.type, "ClusterIP");
    assert.equal(s.spec!.sessionAffinity, "None");
    assert.deepEqual(s.spec!.ports[0], { name: "", protocol: "TCP", port: 80, targetPort: "http", nodePort: 0 });
    assert.equal(s.metadata!.orgId, "o1");
    // Another tenant may use the name; it never gets the same address.
    const b = await createSvc(bob, web());
    assert.notEqual(b.spec!.clusterIp, s.spec!.clusterIp);

    const np = await createSvc(alice, { metadata: { name: "np" }, spec: { type: "NodePort", ports: [{ name: "a", port: 80 }, { name: "b", port: 81, nodePort: 30555 }] } });
    assert.ok(np.spec!.ports[0]!.nodePort >= 30000 && np.spec!.ports[0]!.nodePort <= 32767);
    assert.equal(np.spec!.ports[1]!.nodePort, 30555);
    assert.equal(np.spec!.ports[0]!.targetPort, "80", "targetPort defaults to port");
    await assert.rejects(createSvc(bob, { metadata: { name: "np2" }, spec: { type: "NodePort", ports: [{ port: 80, nodePort: 30555 }] } }), /spec\.ports\[0\]\.nodePort: 30555 is already allocated/);
    await assert.rejects(createSvc(bob, { metadata: { name: "x" }, spec: { clusterIp: s.spec!.clusterIp, ports: [{ port: 1 }] } }), /spec\.clusterIP: .* is already allocated/);
    await assert.rejects(createSvc(alice, { metadata: { name: "x" }, spec: { clusterIp: "10.0.0.1", ports: [{ port: 1 }] } }), /spec\.clusterIP: 10\.0\.0\.1 is not in the service range 10\.96\.0\.0\/16/);
    await assert.rejects(createSvc(alice, { metadata: { name: "Bad_Name" }, spec: { ports: [{ port: 1 }] } }), /metadata\.name: 'Bad_Name' is not a DNS-1035 label/);
    await assert.rejects(createSvc(alice, { metadata: { name: "x" }, spec: { type: "ExternalName" } }), /spec\.type: ExternalName is not supported/);
    await assert.rejects(createSvc(alice, { metadata: { name: "x" }, spec: { ports: [{ port: 1 }, { port: 2 }] } }), /spec\.ports\[0\]\.name: is required/);
    await assert.rejects(createSvc(alice, { metadata: { name: "x" }, spec: { ports: [{ port: 1, targetPort: "not_a_name" }] } }), /spec\.ports\[0\]\.targetPort/);
    await assert.rejects(createSvc(alice, { metadata: { name: "x" }, spec: { ports: [{ port: 1, nodePort: 30001 }] } }), /nodePort: may not be set for type ClusterIP/);
    await assert.rejects(createSvc(alice, { metadata: { name: "x" }, spec: { sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIp: { timeoutSeconds: 90000 } }, ports: [{ port: 1 }] } }), /timeoutSeconds: must be 1-86400/);
    assert.equal(await code(createSvc(alice, web())), "Conflict", "AlreadyExists");

    const aff = await createSvc(alice, { metadata: { name: "aff" }, spec: { sessionAffinity: "ClientIP", ports: [{ port: 1 }] } });
    assert.equal(aff.spec!.sessionAffinityConfig!.clientIp!.timeoutSeconds, 10800);
    const headless = await createSvc(alice, { metadata: { name: "db" }, spec: { clusterIp: "None", selector: { app: "db" } } });
    assert.deepEqual([headless.spec!.clusterIp, headless.spec!.clusterIps], ["None", ["None"]]);
    await assert.rejects(createSvc(alice, { metadata: { name: "x" }, spec: { type: "NodePort", clusterIp: "None", ports: [{ port: 1 }] } }), /headless/);

    // Deleting frees the address and the node ports at once.
    await alice.call("DeleteService", alice.services.deleteService.bind(alice.services), DeleteServiceRequest.fromPartial({ ref: { name: "np" } }));
    await createSvc(bob, { metadata: { name: "np3" }, spec: { type: "NodePort", ports: [{ port: 80, nodePort: 30555 }] } });
  } finally {
    await stop();
  }
});

test("a user sees only its tenant's Services; a node sees those of the tenants it hosts, and may not create any", async () => {
  const { stop, alice, bob, node } = await setup();
  try {
    await createSvc(alice, web());
    await createSvc(bob, web("bobs"));
    assert.deepEqual((await listSvc(alice)).map((s) => s.metadata!.name), ["web"]);
    assert.equal(await code(bob.call("GetService", bob.services.getService.bind(bob.services), GetServiceRequest.fromPartial({ ref: { name: "web", orgId: "o1", projectId: "p1" } }))), "NotFound");
    assert.equal(await code(bob.call("DeleteService", bob.services.deleteService.bind(bob.services), DeleteServiceRequest.fromPartial({ ref: { name: "web", orgId: "o1", projectId: "p1" } }))), "NotFound");
    assert.equal(await code(createSvc(node, web("n"))), "PermissionDenied");
    assert.equal(await code(listSvc(node, { nodeName: "n2" })), "PermissionDenied");

    assert.equal((await listSvc(node, { nodeName: "n1" })).length, 0, "no pod of any tenant on n1 yet");
    const get = GetServiceRequest.fromPartial({ ref: { name: "web", orgId: "o1", projectId: "p1" } });
    assert.equal(await code(node.call("GetService", node.services.getService.bind(node.services), get)), "NotFound");
    await createPod(alice, "p", { labels: {}, node: "n1" }); // any pod of o1, in any namespace or selector
    await createPod(bob, "q", { labels: {}, node: "n2" });
    assert.deepEqual((await listSvc(node, { nodeName: "n1" })).map((s) => `${s.metadata!.orgId}/${s.metadata!.name}`), ["o1/web"]);
    assert.equal((await node.call("GetService", node.services.getService.bind(node.services), get)).metadata!.name, "web");
  } finally {
    await stop();
  }
});

test("the endpoints controller keeps slices from the selected pods: ready, unready, terminating, named ports, gone", async () => {
  const { stop, alice, bob, node } = await setup();
  try {
    await createSvc(alice, web("web", { ports: [{ name: "http", port: 80, targetPort: "http" }, { name: "raw", port: 81, targetPort: "9000" }] }));
    let [slice, ...more] = await slicesOf(alice, "web");
    assert.equal(more.length, 0);
    assert.deepEqual([slice!.endpoints, slice!.ports, slice!.addressType], [[], [], "IPv4"], "the placeholder slice");
    assert.equal(slice!.metadata!.labels["endpointslice.kubernetes.io/managed-by"], "endpointslice-controller.k8s.io");

    const a = await createPod(alice, "a", { port: "http" });
    const b = await createPod(alice, "b", { port: "http" });
    await createPod(alice, "other", { labels: { app: "db" }, port: "http" });
    const foreign = await createPod(bob, "a2", { port: "http" }); // same labels, another tenant
    assert.equal((await slicesOf(alice, "web"))[0]!.endpoints.length, 0, "no IP yet: no endpoint");
    await report(node, a, "10.77.0.5", true);
    await report(node, b, "10.77.0.6", false);
    await report(node, foreign, "10.78.0.5", true);
    [slice, ...more] = await slicesOf(alice, "web");
    assert.equal(more.length, 0);
    assert.deepEqual(slice!.ports, [{ name: "http", protocol: "TCP", port: 8080 }, { name: "raw", protocol: "TCP", port: 9000 }], "the named port resolved against the pods");
    assert.deepEqual(slice!.endpoints.map((e) => [e.addresses[0], e.conditions]), [
      ["10.77.0.5", { ready: true, serving: true, terminating: false }],
      ["10.77.0.6", { ready: false, serving: false, terminating: false }],
    ]);
    assert.deepEqual(slice!.endpoints[0]!.targetRef, { kind: "Pod", namespace: "default", name: "a", uid: a.metadata!.uid, fieldPath: "" });
    assert.equal(slice!.endpoints[0]!.nodeName, "n1");

    // A pod without the named port only serves the numbered one, in a slice of its own.
    const c = await createPod(alice, "c");
    await report(node, c, "10.77.0.7", true);
    const all = await slicesOf(alice, "web");
    assert.equal(all.length, 2);
    assert.deepEqual(all.find((s) => s.endpoints.some((e) => e.addresses[0] === "10.77.0.7"))!.ports, [{ name: "raw", protocol: "TCP", port: 9000 }]);

    // Graceful deletion: terminating, not ready, still serving; then gone.
    await alice.call("DeletePod", alice.pods.deletePod.bind(alice.pods), DeletePodRequest.fromPartial({ ref: { name: "a" }, gracePeriodSeconds: 30n }));
    const ep = (await slicesOf(alice, "web")).flatMap((s) => s.endpoints).find((e) => e.addresses[0] === "10.77.0.5");
    assert.deepEqual(ep!.conditions, { ready: false, serving: true, terminating: true });
    await node.call("DeletePod", node.pods.deletePod.bind(node.pods), DeletePodRequest.fromPartial({ ref: { orgId: "o1", projectId: "p1", name: "a" }, gracePeriodSeconds: 0n }));
    assert.ok(!(await slicesOf(alice, "web")).flatMap((s) => s.endpoints).some((e) => e.addresses[0] === "10.77.0.5"));

    assert.equal((await slicesOf(bob, "web")).length, 0, "bob has no Service web, so no slices");
    await alice.call("DeleteService", alice.services.deleteService.bind(alice.services), DeleteServiceRequest.fromPartial({ ref: { name: "web" } }));
    assert.equal((await slicesOf(alice, "web")).length, 0, "slices go with their Service");
  } finally {
    await stop();
  }
});

test("headless Services publish hostnames of pods whose subdomain names them; users may add slices only for selector-less Services", async () => {
  const { stop, alice, node } = await setup();
  try {
    await createSvc(alice, { metadata: { name: "db" }, spec: { clusterIp: "None", selector: { app: "db" } } });
    const p = await alice.call("CreatePod", alice.pods.createPod.bind(alice.pods), CreatePodRequest.fromPartial({ pod: { metadata: { name: "db-0", labels: { app: "db" } }, spec: { nodeName: "n1", hostname: "db-0", subdomain: "db", containers: [{ name: "c", image: "i" }] } } }));
    await report(node, p, "10.77.0.9", true);
    assert.equal((await slicesOf(alice, "db"))[0]!.endpoints[0]!.hostname, "db-0");

    const create = (s: object): Promise<EndpointSlice> => alice.call("CreateEndpointSlice", alice.endpointSlices.createEndpointSlice.bind(alice.endpointSlices), CreateEndpointSliceRequest.fromPartial({ endpointSlice: s }));
    await createSvc(alice, { metadata: { name: "ext" }, spec: { ports: [{ port: 5432 }] } });
    const s = await create({ metadata: { name: "ext-1", labels: { "kubernetes.io/service-name": "ext" } }, endpoints: [{ addresses: ["192.0.2.10"] }], ports: [{ port: 5432 }] });
    assert.deepEqual(s.endpoints[0]!.conditions, { ready: true, serving: true, terminating: false }, "unknown readiness is ready");
    await assert.rejects(create({ metadata: { name: "ext-2" }, endpoints: [] }), /kubernetes\.io\/service-name.*must name the Service/);
    await assert.rejects(create({ metadata: { name: "ext-3", labels: { "kubernetes.io/service-name": "ext", "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io" } } }), /control plane's own/);
    await assert.rejects(create({ metadata: { name: "ext-4", labels: { "kubernetes.io/service-name": "ext" } }, endpoints: [{ addresses: ["nope"] }] }), /endpoints\[0\]\.addresses: must hold exactly one IPv4 address/);
  } finally {
    await stop();
  }
});

test("a node's Service watch carries the tenants it hosts only, from the version of its list on", async () => {
  const { stop, alice, bob, node } = await setup();
  try {
    await createPod(alice, "p", { labels: {} });
    const rv = (await node.call("ListServices", node.services.listServices.bind(node.services), ListServicesRequest.fromPartial({ nodeName: "n1" }))).resourceVersion;
    const seen: ServiceWatchEvent[] = [];
    const stream = node.services.watchServices(WatchServicesRequest.fromPartial({ nodeName: "n1", resourceVersion: rv }), node.metadata());
    stream.on("data", (e: ServiceWatchEvent) => seen.push(e));
    stream.on("error", () => undefined);
    await createSvc(bob, web("bobs"));
    await createSvc(alice, web());
    await alice.call("DeleteService", alice.services.deleteService.bind(alice.services), DeleteServiceRequest.fromPartial({ ref: { name: "web" } }));
    const end = Date.now() + 5000;
    while (seen.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    stream.cancel();
    assert.deepEqual(seen.map((e) => [e.type, e.service!.metadata!.name]), [[WatchEvent_Type.ADDED, "web"], [WatchEvent_Type.DELETED, "web"]]);
    assert.ok(Number(seen[1]!.resourceVersion) > Number(seen[0]!.resourceVersion));
  } finally {
    await stop();
  }
});
