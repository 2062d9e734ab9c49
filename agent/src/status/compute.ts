// PodStatus from runtime state plus what the pod worker learned (why a
// container waits, why the pod failed). Phase rules are the kubelet's getPhase.
import type { ContainerState, ContainerStatus, Pod, PodCondition, PodStatus } from "@plasmacloud/proto/k8shost";
import { qosClass } from "../resources/qos";
import type { ContainerInfo, PodRuntimeState } from "../runtime/types";

export interface WorkerNotes {
  /** Per container: why it is waiting (ErrImagePull, CrashLoopBackOff, ...). */
  waiting: Map<string, { reason: string; message: string }>;
  /** Pod-level failure: the pod cannot run at all (invalid spec, ...). */
  podFailure: { reason: string; message: string } | undefined;
  /** Pod-level problem that is being retried (sandbox or network setup). */
  podProblem: { reason: string; message: string } | undefined;
  podIPs: string[];
  hostIP: string;
  startTime: Date | undefined;
  runtimeName: string;
}

const date = (ms: number): Date | undefined => (ms > 0 ? new Date(ms) : undefined);

function terminated(c: ContainerInfo, runtimeName: string): ContainerState {
  return {
    waiting: undefined,
    running: undefined,
    terminated: {
      exitCode: c.exitCode,
      signal: 0,
      reason: c.reason || (c.exitCode === 0 ? "Completed" : "Error"),
      message: c.message,
      startedAt: date(c.startedAt),
      finishedAt: date(c.finishedAt),
      containerId: `${runtimeName}://${c.id}`,
    },
  };
}

const waiting = (reason: string, message = ""): ContainerState => ({ waiting: { reason, message }, running: undefined, terminated: undefined });

type Kind = "pending" | "running" | "stopped" | "succeeded";

function containerStatus(name: string, image: string, instances: ContainerInfo[], notes: WorkerNotes): { status: ContainerStatus; kind: Kind } {
  const [latest, previous] = [...instances].sort((a, b) => b.attempt - a.attempt || b.createdAt - a.createdAt);
  const note = notes.waiting.get(name);
  const base = { name, ready: false, restartCount: latest?.attempt ?? 0, image, imageId: latest?.imageRef ?? "", containerId: latest ? `${notes.runtimeName}://${latest.id}` : "", started: false };
  const last = previous && previous.state === "exited" ? terminated(previous, notes.runtimeName) : undefined;
  if (!latest) {
    return { status: { ...base, state: waiting(note?.reason ?? "ContainerCreating", note?.message), lastState: undefined }, kind: "pending" };
  }
  if (latest.state === "running") {
    const state: ContainerState = { waiting: undefined, running: { startedAt: date(latest.startedAt) }, terminated: undefined };
    return { status: { ...base, state, lastState: last, ready: true, started: true }, kind: "running" };
  }
  if (latest.state === "exited") {
    const t = terminated(latest, notes.runtimeName);
    if (note) {
      // Waiting to restart (CrashLoopBackOff): the exit becomes the last state.
      return { status: { ...base, state: waiting(note.reason, note.message), lastState: t }, kind: "stopped" };
    }
    return { status: { ...base, state: t, lastState: last }, kind: latest.exitCode === 0 ? "succeeded" : "stopped" };
  }
  return { status: { ...base, state: waiting(note?.reason ?? "ContainerCreating", note?.message), lastState: last }, kind: "pending" };
}

function condition(type: string, ok: boolean, prev: PodCondition[], now: Date, reason = ""): PodCondition {
  const status = ok ? "True" : "False";
  const p = prev.find((c) => c.type === type);
  return { type, status, reason: ok ? "" : reason, message: "", lastTransitionTime: p && p.status === status ? p.lastTransitionTime : now };
}

export function computeStatus(pod: Pod, state: PodRuntimeState, notes: WorkerNotes, now = new Date()): PodStatus {
  const spec = pod.spec!;
  const prev = pod.status;
  const prevConditions = prev?.conditions ?? [];
  // Only containers of the newest sandbox describe the pod now.
  const sandbox = [...state.sandboxes].sort((a, b) => b.createdAt - a.createdAt)[0];
  const statuses: ContainerStatus[] = [];
  const kinds: Kind[] = [];
  for (const c of spec.containers) {
    const inst = state.containers.filter((x) => x.name === c.name && (!sandbox || x.sandboxId === sandbox.id));
    const { status, kind } = containerStatus(c.name, c.image, inst, notes);
    statuses.push(status);
    kinds.push(kind);
  }
  const count = (k: Kind): number => kinds.filter((x) => x === k).length;
  const policy = spec.restartPolicy || "Always";
  let phase: string;
  if (notes.podFailure) phase = "Failed";
  else if (prev?.phase === "Succeeded" || prev?.phase === "Failed") phase = prev.phase; // terminal phases are final
  else if (count("pending") > 0) phase = "Pending";
  else if (count("running") > 0) phase = "Running";
  else if (count("succeeded") === kinds.length) phase = policy === "Always" ? "Running" : "Succeeded";
  else phase = policy === "Never" ? "Failed" : "Running";

  const allReady = statuses.every((s) => s.ready) && phase === "Running";
  const podIP = notes.podIPs[0] ?? "";
  const problem = notes.podFailure ?? notes.podProblem;
  return {
    phase,
    conditions: [
      condition("PodScheduled", true, prevConditions, now),
      condition("Initialized", true, prevConditions, now),
      condition("ContainersReady", allReady, prevConditions, now, "ContainersNotReady"),
      condition("Ready", allReady, prevConditions, now, "ContainersNotReady"),
    ],
    message: problem?.message ?? "",
    reason: problem?.reason ?? "",
    hostIp: notes.hostIP,
    podIp: podIP,
    podIps: notes.podIPs.map((ip) => ({ ip })),
    startTime: notes.startTime,
    containerStatuses: statuses,
    initContainerStatuses: [],
    qosClass: qosClass(spec),
  };
}
