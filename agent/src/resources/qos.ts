// CPU/memory requests and limits turned into cgroup settings exactly the way
// the kubelet computes them (pkg/kubelet/cm helpers and qos policy).
import type { Container, PodSpec } from "@plasmacloud/proto/k8shost";
import type { ContainerResources } from "../runtime/types";
import { bytes, milliCpu } from "./quantity";

const MIN_SHARES = 2;
const MAX_SHARES = 262144;
const SHARES_PER_CPU = 1024;
const QUOTA_PERIOD = 100_000;
const MIN_QUOTA = 1000;

export type QosClass = "Guaranteed" | "Burstable" | "BestEffort";

function reqOrLimit(c: Container, r: "cpu" | "memory"): { request: string | undefined; limit: string | undefined } {
  const limit = c.resources?.limits[r];
  // The API server defaults a missing request to the limit.
  return { request: c.resources?.requests[r] ?? limit, limit };
}

export function milliCpuToShares(m: number): number {
  if (m === 0) return MIN_SHARES;
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, Math.floor((m * SHARES_PER_CPU) / 1000)));
}

export function milliCpuToQuota(m: number, period = QUOTA_PERIOD): number {
  if (m === 0) return 0;
  return Math.max(MIN_QUOTA, Math.floor((m * period) / 1000));
}

export function qosClass(spec: PodSpec): QosClass {
  let any = false;
  let guaranteed = true;
  // The kubelet's GetPodQOS looks at init containers too.
  for (const c of [...spec.initContainers, ...spec.containers]) {
    for (const r of ["cpu", "memory"] as const) {
      const { request, limit } = reqOrLimit(c, r);
      if (request || limit) any = true;
      if (!limit || !request || (r === "cpu" ? milliCpu(request) !== milliCpu(limit) : bytes(request) !== bytes(limit))) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

export function oomScoreAdj(qos: QosClass, memoryRequest: number, memoryCapacity: number): number {
  if (qos === "Guaranteed") return -997;
  if (qos === "BestEffort") return 1000;
  const adj = memoryCapacity > 0 ? 1000 - Math.floor((1000 * memoryRequest) / memoryCapacity) : 1000;
  if (adj < 2) return 2;
  return adj >= 1000 ? 999 : adj;
}

export function containerResources(c: Container, qos: QosClass, memoryCapacity: number): ContainerResources {
  const cpu = reqOrLimit(c, "cpu");
  const mem = reqOrLimit(c, "memory");
  const cpuLimit = milliCpu(cpu.limit);
  return {
    cpuShares: milliCpuToShares(milliCpu(cpu.request)),
    cpuPeriod: cpuLimit ? QUOTA_PERIOD : 0,
    cpuQuota: milliCpuToQuota(cpuLimit),
    memoryLimitBytes: bytes(mem.limit),
    oomScoreAdj: oomScoreAdj(qos, bytes(mem.request), memoryCapacity),
  };
}

export function podCgroupParent(root: string, qos: QosClass, uid: string): string {
  const base = root.replace(/\/+$/, "");
  if (qos === "Guaranteed") return `${base}/pod${uid}`;
  return `${base}/${qos.toLowerCase()}/pod${uid}`;
}
