// The kubelet's events about its node: "Starting" once per start and, on each
// condition change the control plane accepted, recordNodeStatusEvent's
// "Node <name> status is now: <reason>" (all Normal, as the kubelet files them).
import type { NodeCondition } from "@plasmacloud/proto/k8shost";
import type { NodeEvents } from "./types";

const REASONS: Record<string, { True: string; other: string }> = {
  Ready: { True: "NodeReady", other: "NodeNotReady" },
  MemoryPressure: { True: "NodeHasInsufficientMemory", other: "NodeHasSufficientMemory" },
  DiskPressure: { True: "NodeHasDiskPressure", other: "NodeHasNoDiskPressure" },
  PIDPressure: { True: "NodeHasInsufficientPID", other: "NodeHasSufficientPID" },
};

/** Reasons for the conditions whose status changed from `prev` (empty at start: all of them). */
export function nodeStatusReasons(prev: NodeCondition[], next: NodeCondition[]): string[] {
  const out: string[] = [];
  for (const c of next) {
    const r = REASONS[c.type];
    if (!r || prev.find((p) => p.type === c.type)?.status === c.status) continue;
    out.push(c.status === "True" ? r.True : r.other);
  }
  return out;
}

export function emitNodeStatus(events: NodeEvents, nodeName: string, prev: NodeCondition[], next: NodeCondition[]): void {
  for (const reason of nodeStatusReasons(prev, next)) events.emitNode("Normal", reason, `Node ${nodeName} status is now: ${reason}`);
}

export function emitStarting(events: NodeEvents): void {
  events.emitNode("Normal", "Starting", "Starting k8shost-agent.");
}
