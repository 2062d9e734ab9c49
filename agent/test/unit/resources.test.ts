// Requests/limits -> cgroup settings, as the kubelet computes them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Pod } from "@plasmacloud/proto/k8shost";
import { bytes, milliCpu, parseQuantity } from "../../src/resources/quantity";
import { containerResources, milliCpuToQuota, milliCpuToShares, oomScoreAdj, podCgroupParent, qosClass } from "../../src/resources/qos";

const pod = (resources: { requests?: Record<string, string>; limits?: Record<string, string> }[]) =>
  Pod.fromPartial({ spec: { containers: resources.map((r, i) => ({ name: `c${i}`, image: "i", resources: r })) } });

test("quantities", () => {
  assert.equal(parseQuantity("500m"), 0.5);
  assert.equal(parseQuantity("64Mi"), 64 * 2 ** 20);
  assert.equal(parseQuantity("1e3"), 1000);
  assert.equal(parseQuantity("2G"), 2e9);
  assert.equal(parseQuantity("1E"), 1e18);
  assert.equal(parseQuantity("1.5Gi"), 1.5 * 2 ** 30);
  assert.equal(parseQuantity("12 apples"), undefined);
  assert.equal(parseQuantity("-1"), undefined);
  assert.equal(milliCpu("0.25"), 250);
  assert.equal(milliCpu("1"), 1000);
  assert.equal(bytes("1Ki"), 1024);
});

test("cpu shares and quota follow the kubelet's formulas", () => {
  assert.equal(milliCpuToShares(0), 2);
  assert.equal(milliCpuToShares(1), 2);
  assert.equal(milliCpuToShares(250), 256);
  assert.equal(milliCpuToShares(1000), 1024);
  assert.equal(milliCpuToShares(10_000_000), 262144);
  assert.equal(milliCpuToQuota(0), 0);
  assert.equal(milliCpuToQuota(5), 1000, "quota never below 1 ms");
  assert.equal(milliCpuToQuota(500), 50_000);
});

test("QoS classes, oom_score_adj and cgroup parents", () => {
  const guaranteed = pod([{ limits: { cpu: "1", memory: "1Gi" } }]);
  const burstable = pod([{ requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } }]);
  const best = pod([{}]);
  assert.equal(qosClass(guaranteed.spec!), "Guaranteed");
  assert.equal(qosClass(burstable.spec!), "Burstable");
  assert.equal(qosClass(best.spec!), "BestEffort");
  assert.equal(oomScoreAdj("Guaranteed", 0, 8 * 2 ** 30), -997);
  assert.equal(oomScoreAdj("BestEffort", 0, 8 * 2 ** 30), 1000);
  assert.equal(oomScoreAdj("Burstable", 2 ** 30, 8 * 2 ** 30), 875);
  assert.equal(oomScoreAdj("Burstable", 8 * 2 ** 30, 8 * 2 ** 30), 2, "never below 2");
  assert.equal(oomScoreAdj("Burstable", 0, 8 * 2 ** 30), 999, "never 1000 for burstable");
  assert.equal(podCgroupParent("/k8shost", "Guaranteed", "u1"), "/k8shost/podu1");
  assert.equal(podCgroupParent("/k8shost/", "Burstable", "u1"), "/k8shost/burstable/podu1");
  assert.equal(podCgroupParent("/k8shost", "BestEffort", "u1"), "/k8shost/besteffort/podu1");
});

test("a container's CRI resources", () => {
  const p = pod([{ requests: { cpu: "250m", memory: "64Mi" }, limits: { cpu: "500m", memory: "128Mi" } }]);
  const r = containerResources(p.spec!.containers[0]!, "Burstable", 2 ** 30);
  assert.deepEqual(r, { cpuShares: 256, cpuPeriod: 100_000, cpuQuota: 50_000, memoryLimitBytes: 128 * 2 ** 20, oomScoreAdj: 938 });
  // A limit alone is also the request (API-server defaulting).
  const g = pod([{ limits: { cpu: "2", memory: "1Gi" } }]);
  assert.equal(containerResources(g.spec!.containers[0]!, "Guaranteed", 2 ** 30).cpuShares, 2048);
});
