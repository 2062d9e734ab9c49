// Node conditions from readings, with the kubelet's eviction-threshold meaning:
// pressure when what is available falls below the configured hard threshold.
import type { NodeCondition } from "@plasmacloud/proto/k8shost";
import { thresholdBytes } from "../resources/quantity";
import type { LiveReadings } from "./readings";

export interface Thresholds {
  memoryAvailable: string;
  nodefsAvailable: string;
  pidAvailable: string;
}

export interface RuntimeHealth {
  ready: boolean;
  reason: string;
  message: string;
}

export function conditions(r: LiveReadings, t: Thresholds, runtime: RuntimeHealth, prev: NodeCondition[], now = new Date()): NodeCondition[] {
  const mk = (type: string, on: boolean, reasonOn: string, reasonOff: string, message: string): NodeCondition => {
    const status = on ? "True" : "False";
    const p = prev.find((c) => c.type === type);
    return { type, status, reason: on ? reasonOn : reasonOff, message, lastHeartbeatTime: now, lastTransitionTime: p && p.status === status ? p.lastTransitionTime : now };
  };
  const memLow = r.memoryAvailableBytes < thresholdBytes(t.memoryAvailable, r.memoryTotalBytes);
  const diskLow = r.fsAvailableBytes < thresholdBytes(t.nodefsAvailable, r.fsTotalBytes);
  const pidLow = r.pidMax - r.pidsInUse < thresholdBytes(t.pidAvailable, r.pidMax);
  const mib = (b: number): string => `${Math.round(b / 2 ** 20)}Mi`;
  return [
    mk("Ready", runtime.ready, "AgentReady", runtime.reason || "ContainerRuntimeNotReady", runtime.ready ? "k8shost-agent is posting ready status" : runtime.message),
    mk("MemoryPressure", memLow, "AgentHasInsufficientMemory", "AgentHasSufficientMemory", `memory available ${mib(r.memoryAvailableBytes)}`),
    mk("DiskPressure", diskLow, "AgentHasDiskPressure", "AgentHasNoDiskPressure", `node filesystem available ${mib(r.fsAvailableBytes)} of ${mib(r.fsTotalBytes)}`),
    mk("PIDPressure", pidLow, "AgentHasInsufficientPID", "AgentHasSufficientPID", `${r.pidsInUse} of ${r.pidMax} pids in use`),
  ];
}
