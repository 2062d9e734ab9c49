// PodStatus from runtime state plus what the pod worker learned (why a
// container waits, why the pod failed). Phase rules are the kubelet's getPhase.
import { PodStatus, type ContainerState, type ContainerStatus, type Pod, type PodCondition } from "@plasmacloud/proto/k8shost";
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
  /**
   * Per container: its highest attempt this agent has seen, in any sandbox of
   * the pod (or in the control plane's status at adoption). A replaced
   * sandbox takes its containers with it; the count goes on from here.
   */
  attempts: Map<string, number>;
  /**
   * Per container: how its newest instance in a sandbox that is gone ended
   * (or the control plane's lastState at adoption). The kubelet keeps dead
   * containers; a replaced sandbox takes ours with it, and lastState (and
   * `logs --previous`) would forget the crash that mattered.
   */
  goneTerminated: Map<string, { attempt: number; state: ContainerState }>;
  /** Probe verdicts on running containers (probes/manager.ts); unset: running means started and ready. */
  probes?: { started(name: string, containerId: string): boolean; ready(name: string, containerId: string): boolean };
}

const date = (ms: number): Date | undefined => (ms > 0 ? new Date(ms) : undefined);

export function terminated(c: ContainerInfo, runtimeName: string): ContainerState {
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
  const base = { name, ready: false, restartCount: latest?.attempt ?? notes.attempts.get(name) ?? 0, image, imageId: latest?.imageRef ?? "", containerId: latest ? `${notes.runtimeName}://${latest.id}` : "", started: false };
  const gone = notes.goneTerminated.get(name);
  const last = previous && previous.state === "exited" ? terminated(previous, notes.runtimeName)
    : gone && (!latest || gone.attempt < latest.attempt) ? gone.state : undefined;
  if (!latest) {
    return { status: { ...base, state: waiting(note?.reason ?? "ContainerCreating", note?.message), lastState: last }, kind: "pending" };
  }
  if (latest.state === "running") {
    const state: ContainerState = { waiting: undefined, running: { startedAt: date(latest.startedAt) }, terminated: undefined };
    const started = notes.probes?.started(name, latest.id) ?? true;
    const ready = started && (notes.probes?.ready(name, latest.id) ?? true);
    return { status: { ...base, state, lastState: last, ready, started }, kind: "running" };
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
  if (notes.podFailure && state.containers.length === 0 && notes.goneTerminated.size === 0) {
    // Refused before anything ran (the kubelet's rejectPod): phase, reason and message, no container statuses.
    return PodStatus.fromPartial({ phase: "Failed", reason: notes.podFailure.reason, message: notes.podFailure.message, conditions: [condition("PodScheduled", true, prevConditions, now)], qosClass: qosClass(spec) });
  }
  // Only containers of the newest sandbox describe the pod now.
  const sandbox = [...state.sandboxes].sort((a, b) => b.createdAt - a.createdAt)[0];
  const instances = (name: string): ContainerInfo[] => state.containers.filter((x) => x.name === name && (!sandbox || x.sandboxId === sandbox.id));
  const init = initStatuses(spec, instances, notes);
  // Once an app container ran in this sandbox the pod stays initialized, even
  // after its sidecars were stopped at completion.
  if (spec.containers.some((c) => instances(c.name).length > 0)) Object.assign(init, { done: true, failed: 0 });
  const statuses: ContainerStatus[] = [];
  const kinds: Kind[] = [];
  for (const c of spec.containers) {
    const inst = instances(c.name);
    const { status, kind } = containerStatus(c.name, c.image, inst, notes);
    // Until the init containers are done, an app container that never ran waits for them.
    if (!init.done && inst.length === 0 && !notes.waiting.has(c.name)) status.state = waiting("PodInitializing");
    statuses.push(status);
    kinds.push(kind);
  }
  const count = (k: Kind): number => kinds.filter((x) => x === k).length;
  const policy = spec.restartPolicy || "Always";
  let phase: string;
  if (notes.podFailure) phase = "Failed";
  else if (prev?.phase === "Succeeded" || prev?.phase === "Failed") phase = prev.phase; // terminal phases are final
  else if (init.failed > 0 && policy === "Never") phase = "Failed";
  else if (!init.done) phase = "Pending";
  else if (count("pending") > 0) phase = "Pending";
  else if (count("running") > 0) phase = "Running";
  else if (count("succeeded") === kinds.length) phase = policy === "Always" ? "Running" : "Succeeded";
  else phase = policy === "Never" ? "Failed" : "Running";

  // Sidecars count for readiness beside the app containers, as in the kubelet.
  const allReady = [...statuses, ...init.sidecars].every((s) => s.ready) && phase === "Running";
  const podIP = notes.podIPs[0] ?? "";
  const problem = notes.podFailure ?? notes.podProblem;
  return {
    phase,
    conditions: [
      condition("PodScheduled", true, prevConditions, now),
      condition("Initialized", init.done, prevConditions, now, "ContainersNotInitialized"),
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
    initContainerStatuses: init.statuses,
    qosClass: qosClass(spec),
  };
}

interface InitStatus {
  statuses: ContainerStatus[];
  /** The sidecars' statuses, for readiness. */
  sidecars: ContainerStatus[];
  /** Every regular init container exited 0 and every sidecar runs. */
  done: boolean;
  /** Regular init containers whose last run failed (the kubelet's failedInitialization). */
  failed: number;
}

/** Init container statuses and the kubelet's getPhase counts for them. */
function initStatuses(spec: Pod["spec"] & object, instances: (name: string) => ContainerInfo[], notes: WorkerNotes): InitStatus {
  const out: InitStatus = { statuses: [], sidecars: [], done: true, failed: 0 };
  for (const c of spec.initContainers) {
    const { status, kind } = containerStatus(c.name, c.image, instances(c.name), notes);
    out.statuses.push(status);
    if (c.restartPolicy === "Always") {
      out.sidecars.push(status);
      if (kind !== "running") out.done = false;
      continue;
    }
    // A regular init container is "ready" once it completed, as the kubelet reports it.
    status.ready = kind === "succeeded";
    if (kind === "succeeded") continue;
    out.done = false;
    const t = status.state?.terminated ?? status.lastState?.terminated;
    if (t && t.exitCode !== 0 && !status.state?.running) out.failed++;
  }
  return out;
}
