// The probe manager (the kubelet's prober.Manager): the pod loop hands it each
// pod's runtime state after a sync; it keeps one worker per probe of every
// running container (sidecars and app containers) and none for anything else,
// holds the results by container id, and asks the pod loop for a sync when a
// result changes. The sync reads back what it needs: whether a container
// counts as started or ready, and whether liveness or startup wants it killed.
import { errorMessage } from "@plasmacloud/common/errors";
import type { Logger } from "@plasmacloud/common/log";
import type { Container, Pod } from "@plasmacloud/proto/k8shost";
import { containerFieldPath, type PodEvents } from "../events/types";
import { longRunning } from "../pods/containers";
import type { ContainerInfo, PodRuntimeState } from "../runtime/types";
import { runProbe, type Exec } from "./handlers";
import { kindLabel, PROBE_KINDS, probeOf, timing, type ProbeKind, type ProbeOutcome, type ProbeResult } from "./spec";
import { ProbeWorker, realClock, type Clock } from "./worker";

export interface ProbeManagerDeps {
  exec: Exec;
  events: PodEvents;
  log: Logger;
  /** Asks the pod loop to sync this pod: a result changed. */
  onChange(podUid: string): void;
  clock?: Clock;
}

/** Why a running container must be killed, with the grace its probe asks for. */
export interface ProbeKill {
  kind: "liveness" | "startup";
  /** The probe's terminationGracePeriodSeconds, when set. */
  graceSeconds: number | undefined;
}

/** What status needs: whether a running container counts as started and as ready. */
export interface ProbeView {
  started(name: string, containerId: string): boolean;
  ready(name: string, containerId: string): boolean;
}

interface PodEntry {
  pod: Pod;
  podIP: string;
  /** By `${container}/${kind}`. */
  workers: Map<string, ProbeWorker>;
  /** Container ids that hold results. */
  ids: Set<string>;
}

export class ProbeManager {
  private readonly pods = new Map<string, PodEntry>();
  private readonly results = new Map<string, Partial<Record<ProbeKind, ProbeResult>>>();
  private readonly clock: Clock;
  private readonly createdAt: number;

  constructor(private readonly d: ProbeManagerDeps) {
    this.clock = d.clock ?? realClock;
    this.createdAt = this.clock.now();
  }

  /**
   * After each sync: workers for the probes of the running containers in the
   * pod's newest ready sandbox; every other worker of the pod stops. Returns
   * the view status reads.
   */
  update(pod: Pod, state: PodRuntimeState, podIP: string): ProbeView {
    const uid = pod.metadata!.uid;
    let e = this.pods.get(uid);
    if (!e) this.pods.set(uid, (e = { pod, podIP, workers: new Map(), ids: new Set() }));
    e.pod = pod;
    e.podIP = podIP;
    const running = runningByName(state);
    const wanted = new Set<string>();
    for (const c of longRunning(pod.spec!)) {
      const r = running.get(c.name);
      if (!r) continue;
      for (const kind of PROBE_KINDS) {
        if (!probeOf(c, kind)) continue;
        const key = `${c.name}/${kind}`;
        wanted.add(key);
        let w = e.workers.get(key);
        if (!w) e.workers.set(key, (w = this.newWorker(e, c.name, kind)));
        w.track(r.id, r.startedAt);
      }
    }
    for (const [key, w] of e.workers) {
      if (wanted.has(key)) continue;
      w.stop();
      e.workers.delete(key);
    }
    // Results live as long as their container runs.
    const live = new Set([...running.values()].map((r) => r.id));
    for (const id of e.ids) if (!live.has(id)) this.results.delete(id);
    e.ids = new Set([...e.ids].filter((id) => live.has(id)));
    return this.view(pod);
  }

  /** The pod is going (or gone): its workers stop and its results go. */
  forget(uid: string): void {
    const e = this.pods.get(uid);
    if (!e) return;
    for (const w of e.workers.values()) w.stop();
    for (const id of e.ids) this.results.delete(id);
    this.pods.delete(uid);
  }

  /** The kubelet's rule: started once the startup probe passed, or at once without one. */
  started(c: Container, containerId: string): boolean {
    return !c.startupProbe || this.results.get(containerId)?.startup === "success";
  }

  /** Ready: started, and the readiness probe passed (or there is none). */
  ready(c: Container, containerId: string): boolean {
    return this.started(c, containerId) && (!c.readinessProbe || this.results.get(containerId)?.readiness === "success");
  }

  /** Liveness (or startup, past its failure threshold) failed for this instance: it must be killed. */
  killFor(c: Container, containerId: string): ProbeKill | undefined {
    const r = this.results.get(containerId);
    const grace = (kind: "liveness" | "startup"): number | undefined => {
      const g = probeOf(c, kind)?.terminationGracePeriodSeconds;
      return g === undefined ? undefined : Number(g);
    };
    if (c.livenessProbe && r?.liveness === "failure") return { kind: "liveness", graceSeconds: grace("liveness") };
    if (c.startupProbe && r?.startup === "failure") return { kind: "startup", graceSeconds: grace("startup") };
    return undefined;
  }

  view(pod: Pod): ProbeView {
    const spec = (name: string): Container | undefined => longRunning(pod.spec!).find((c) => c.name === name);
    return {
      started: (name, id) => {
        const c = spec(name);
        return !c || this.started(c, id);
      },
      ready: (name, id) => {
        const c = spec(name);
        return !c || this.ready(c, id);
      },
    };
  }

  stop(): void {
    for (const uid of [...this.pods.keys()]) this.forget(uid);
  }

  private newWorker(e: PodEntry, name: string, kind: ProbeKind): ProbeWorker {
    const probe = probeOf(findContainer(e.pod, name)!, kind)!;
    const t = timing(probe);
    // Soon after the agent (re)starts, first probes are spread over a period, as the kubelet does.
    const jitter = this.clock.now() - this.createdAt < t.periodMs ? Math.random() * t.periodMs : 0;
    return new ProbeWorker(kind, t, {
      clock: this.clock,
      probe: (id) => {
        const c = findContainer(e.pod, name)!;
        return runProbe(probeOf(c, kind)!, { container: c, containerId: id, podIP: e.podIP }, t.timeoutMs, this.d.exec);
      },
      started: (id) => {
        const c = findContainer(e.pod, name);
        return !c || this.started(c, id);
      },
      publish: (id, result) => this.publish(e, name, kind, id, result),
      report: (_id, outcome) => this.report(e.pod, name, kind, outcome),
    }, jitter);
  }

  private publish(e: PodEntry, name: string, kind: ProbeKind, id: string, result: ProbeResult): void {
    if (!this.pods.has(e.pod.metadata!.uid)) return; // forgotten while the probe ran
    let r = this.results.get(id);
    if (!r) this.results.set(id, (r = {}));
    e.ids.add(id);
    if (r[kind] === result) return;
    r[kind] = result;
    this.d.log.debug({ pod: `${e.pod.metadata!.namespace}/${e.pod.metadata!.name}`, container: name, probe: kind, result }, "probe result changed");
    // Readiness need not wait a period once the container counts as started.
    if (kind === "startup" && result === "success") e.workers.get(`${name}/readiness`)?.trigger();
    this.d.onChange(e.pod.metadata!.uid);
  }

  private report(pod: Pod, name: string, kind: ProbeKind, outcome: ProbeOutcome | Error): void {
    const where = containerFieldPath(pod, name);
    if (outcome instanceof Error) {
      this.d.events.emit(pod, "Warning", "Unhealthy", `${kindLabel(kind)} probe errored: ${errorMessage(outcome)}`, where);
    } else if (outcome.result === "warning") {
      this.d.events.emit(pod, "Warning", "ProbeWarning", `${kindLabel(kind)} probe warning: ${outcome.output}`, where);
    } else {
      this.d.events.emit(pod, "Warning", "Unhealthy", `${kindLabel(kind)} probe failed: ${outcome.output}`, where);
    }
  }
}

function findContainer(pod: Pod, name: string): Container | undefined {
  return longRunning(pod.spec!).find((c) => c.name === name);
}

/** The newest instance of each container in the newest ready sandbox, when it runs. */
function runningByName(state: PodRuntimeState): Map<string, ContainerInfo> {
  const sandbox = state.sandboxes.filter((s) => s.ready).sort((a, b) => b.createdAt - a.createdAt)[0];
  const newest = new Map<string, ContainerInfo>();
  if (!sandbox) return newest;
  for (const c of state.containers) {
    if (c.sandboxId !== sandbox.id) continue;
    const cur = newest.get(c.name);
    if (!cur || c.attempt > cur.attempt) newest.set(c.name, c);
  }
  for (const [name, c] of newest) if (c.state !== "running") newest.delete(name);
  return newest;
}
