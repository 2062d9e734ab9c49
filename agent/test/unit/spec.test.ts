// Pod -> runtime requests: pull policy defaults, DNS, validation, config.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TenantKeys } from "@plasmacloud/proto/annotations";
import { Container, Pod } from "@plasmacloud/proto/k8shost";
import { buildConfig } from "../../src/config/schema";
import { registryHost } from "../../src/pods/images";
import { dnsConfig, pullPolicy, sandboxRequest, type NodeSettings } from "../../src/pods/spec";
import { validatePod } from "../../src/pods/validate";
import { podLogDir } from "../../src/runtime/logs";

const hostDNS = { servers: ["192.0.2.53"], searches: ["corp.example"], options: ["edns0"] };
const settings: NodeSettings = { nodeName: "n", cgroupRoot: "/k8shost", clusterDNS: { servers: ["10.96.0.10"], domain: "cluster.local" }, hostDNS: { current: () => hostDNS }, memoryCapacityBytes: 2 ** 30, security: { allowPrivileged: false, allowedCapabilities: [], allowHostNamespaces: false, allowedUnsafeSysctls: [], seccompDefault: false, seccompProfileRoot: "/var/lib/k8shost-agent/seccomp" } };

test("pull policy defaults by tag, as the kubelet does", () => {
  const c = (image: string, imagePullPolicy = "") => Container.fromPartial({ name: "c", image, imagePullPolicy });
  assert.equal(pullPolicy(c("busybox")), "Always");
  assert.equal(pullPolicy(c("busybox:latest")), "Always");
  assert.equal(pullPolicy(c("127.0.0.1:5000/x/busybox")), "Always", "a registry port is not a tag");
  assert.equal(pullPolicy(c("127.0.0.1:5000/x/busybox:1.0")), "IfNotPresent");
  assert.equal(pullPolicy(c("busybox@sha256:abc")), "IfNotPresent");
  assert.equal(pullPolicy(c("busybox:1.0", "Never")), "Never");
  assert.equal(registryHost("127.0.0.1:5001/private/busybox:1.0"), "127.0.0.1:5001");
  assert.equal(registryHost("library/busybox"), "docker.io");
});

test("ClusterFirst DNS: FlashDNS servers, service search path, ndots:5", () => {
  const pod = Pod.fromPartial({ metadata: { uid: "u", name: "web", namespace: "shop", orgId: "o", projectId: "p" }, spec: { containers: [{ name: "c", image: "i" }] } });
  assert.deepEqual(dnsConfig(pod, settings), { servers: ["10.96.0.10"], searches: ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local"], options: ["ndots:5"] });
  const none = Pod.fromPartial({ ...pod, spec: { dnsPolicy: "None", containers: [{ name: "c", image: "i" }] } });
  assert.deepEqual(dnsConfig(none, settings), { servers: [], searches: [], options: [] });
  const host = Pod.fromPartial({ ...pod, spec: { dnsPolicy: "Default", containers: [{ name: "c", image: "i" }] } });
  assert.deepEqual(dnsConfig(host, settings), hostDNS, "Default: the host's resolver settings");
  const req = sandboxRequest(pod, 2, settings, { [TenantKeys.subnetId]: "s" });
  assert.equal(podLogDir("/var/log/pods", req.pod), "/var/log/pods/shop_web_u");
  assert.equal(req.hostname, "web");
  assert.equal(req.attempt, 2);
  assert.equal(req.cgroupParent, "/k8shost/besteffort/podu");
  assert.deepEqual(req.annotations, { [TenantKeys.subnetId]: "s" });
});

test("validation names the offending field", () => {
  const ok = () => undefined;
  const v = (spec: object) => validatePod(Pod.fromPartial({ metadata: { uid: "u", name: "p" }, spec }), ok);
  assert.equal(v({ containers: [] }), "spec.containers: at least one container is required");
  assert.match(v({ containers: [{ name: "c", image: "" }] }) ?? "", /^spec\.containers\[0\]\.image/);
  assert.match(v({ containers: [{ name: "c", image: "i", resources: { limits: { memory: "lots" } } }] }) ?? "", /resources\.limits\.memory: 'lots' is not a valid quantity/);
  assert.match(v({ containers: [{ name: "c", image: "i", resources: { requests: { cpu: "2" }, limits: { cpu: "1" } } }] }) ?? "", /exceeds the limit/);
  assert.match(v({ containers: [{ name: "c", image: "i", volumeMounts: [{ name: "nope", mountPath: "/x" }] }] }) ?? "", /no volume named 'nope'/);
  assert.match(v({ restartPolicy: "Sometimes", containers: [{ name: "c", image: "i" }] }) ?? "", /spec\.restartPolicy/);
  assert.equal(v({ containers: [{ name: "c", image: "i" }] }), undefined);
});

test("config: defaults, unknown and invalid fields are errors naming the field", () => {
  const c = buildConfig({ nodeName: "worker-1" });
  assert.equal(c.maxPods, 110);
  assert.equal(c.heartbeatSeconds, 10);
  assert.throws(() => buildConfig({ nodeNmae: "x" }), /config field 'nodeNmae': unknown field/);
  assert.throws(() => buildConfig({ controlPlane: { adress: "x" } }), /'controlPlane\.adress': unknown field/);
  assert.throws(() => buildConfig({ heartbeatSeconds: "10" }), /'heartbeatSeconds': must be a number/);
  assert.throws(() => buildConfig({ maxPods: 0 }), /'maxPods': must be > 0/);
  assert.throws(() => buildConfig({ network: { mode: "magic" } }), /'network\.mode'/);
  assert.throws(() => buildConfig({ network: { mode: "novanet" } }), /'network\.novanet\.serverAddress'/);
  assert.throws(() => buildConfig({ runtime: { endpoint: "/run/containerd.sock" } }), /'runtime\.endpoint'/);
  assert.equal(buildConfig({ nodeName: "n", logLevel: "debug" }).logLevel, "debug");
  assert.throws(() => buildConfig({ logLevel: "loud" }), /'logLevel': must be one of trace, debug, info, warn, error/);
});
