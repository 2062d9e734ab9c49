// The node controller: registers this node (idempotent) and heartbeats with
// conditions from real readings, with jitter so a fleet does not beat in step
// and backoff while the control plane fails. Separate from the pod loop.
import { HeartbeatRequest, Node, RegisterNodeRequest, type NodeCondition } from "@plasmacloud/proto/k8shost";
import { errorCode, errorMessage } from "@plasmacloud/common/errors";
import type { Logger } from "@plasmacloud/common/log";
import type { AgentConfig } from "../config/schema";
import type { ControlPlane } from "../controlplane/client";
import { NODE_API_PORT_ANNOTATION } from "../nodeapi/paths";
import { emitNodeStatus, emitStarting } from "../events/node";
import type { NodeEvents } from "../events/types";
import type { AgentMetrics } from "../observe/metrics";
import { bytes, formatKi, milliCpu } from "../resources/quantity";
import { Backoff, sleep } from "../retry/backoff";
import { ProblemLog } from "../retry/problem";
import type { PodRuntime, RuntimeVersion } from "../runtime/types";
import { conditions, type RuntimeHealth } from "./conditions";
import { liveReadings, type StaticFacts } from "./readings";
import { RELEASE_VERSION } from "@plasmacloud/common/version";

export const AGENT_VERSION = RELEASE_VERSION;

export function nodeObject(cfg: AgentConfig, f: StaticFacts, rv: RuntimeVersion | undefined): Node {
  const milli = f.cpuCores * 1000;
  const alloc = (total: number, reserved: number): number => Math.max(0, total - reserved);
  return Node.fromPartial({
    metadata: {
      name: cfg.nodeName,
      labels: { "kubernetes.io/hostname": cfg.nodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": f.arch, ...cfg.nodeLabels },
      // Where clients find the node API (the kubelet publishes status.daemonEndpoints).
      annotations: cfg.server.certFile ? { [NODE_API_PORT_ANNOTATION]: String(cfg.server.port) } : {},
    },
    // --register-with-taints: sent on every registration, so a re-registration keeps them.
    spec: { taints: cfg.node.taints.map((t) => ({ key: t.key, value: t.value, effect: t.effect, timeAdded: undefined })) },
    status: {
      capacity: { cpu: String(f.cpuCores), memory: formatKi(f.memoryBytes), "ephemeral-storage": formatKi(f.ephemeralBytes), pods: String(cfg.maxPods) },
      allocatable: {
        cpu: `${alloc(milli, milliCpu(cfg.reserved.cpu))}m`,
        memory: formatKi(alloc(f.memoryBytes, bytes(cfg.reserved.memory))),
        "ephemeral-storage": formatKi(alloc(f.ephemeralBytes, bytes(cfg.reserved.ephemeralStorage))),
        pods: String(cfg.maxPods),
      },
      addresses: f.addresses,
      nodeInfo: {
        machineId: f.machineId,
        bootId: f.bootId,
        kernelVersion: f.kernel,
        osImage: f.osImage,
        containerRuntimeVersion: rv ? `${rv.runtimeName}://${rv.runtimeVersion}` : "",
        agentVersion: AGENT_VERSION,
        operatingSystem: "linux",
        architecture: f.arch,
      },
    },
  });
}

export class NodeController {
  private readonly backoff: Backoff;
  private readonly problem: ProblemLog;
  private prev: NodeCondition[] = [];
  private registered = false;
  private stopped = new AbortController();

  constructor(
    private readonly cfg: AgentConfig,
    private readonly cp: ControlPlane,
    private readonly runtime: PodRuntime,
    private readonly metrics: AgentMetrics,
    private readonly log: Logger,
    private readonly facts: StaticFacts,
    private readonly events: NodeEvents = { emitNode: () => undefined },
  ) {
    this.problem = new ProblemLog(log, "node registration/heartbeat");
    // Never wait longer than one heartbeat period between tries.
    this.backoff = new Backoff(500, cfg.heartbeatSeconds * 1000);
  }

  async runtimeHealth(): Promise<RuntimeHealth> {
    try {
      return await this.runtime.ready();
    } catch (err) {
      return { ready: false, reason: "ContainerRuntimeUnreachable", message: `container runtime did not answer: ${errorMessage(err)}` };
    }
  }

  async run(): Promise<void> {
    const signal = this.stopped.signal;
    const period = this.cfg.heartbeatSeconds * 1000;
    emitStarting(this.events);
    while (!signal.aborted) {
      let delay: number;
      try {
        if (!this.registered) await this.register();
        await this.beat();
        this.backoff.reset();
        this.problem.ok();
        delay = period * (0.9 + Math.random() * 0.2); // ±10% jitter
      } catch (err) {
        delay = this.backoff.next();
        this.problem.failed(err, delay);
        if (errorCode(err) === "NotFound") this.registered = false; // the node object was deleted: register again
      }
      await sleep(delay, signal);
    }
  }

  private async register(): Promise<void> {
    let rv: RuntimeVersion | undefined;
    try {
      rv = await this.runtime.version();
    } catch {
      rv = undefined; // registration does not wait for the runtime; Ready says it
    }
    const node = nodeObject(this.cfg, this.facts, rv);
    await this.cp.call("RegisterNode", this.cp.nodes.registerNode.bind(this.cp.nodes), RegisterNodeRequest.fromPartial({ node }));
    this.registered = true;
    this.log.info({ node: this.cfg.nodeName, runtime: node.status?.nodeInfo?.containerRuntimeVersion }, "node registered");
  }

  private async beat(): Promise<void> {
    const [readings, health] = await Promise.all([liveReadings(this.cfg.rootDir), this.runtimeHealth()]);
    const conds = conditions(readings, this.cfg.evictionHard, health, this.prev);
    await this.cp.call("Heartbeat", this.cp.nodes.heartbeat.bind(this.cp.nodes), HeartbeatRequest.fromPartial({ nodeName: this.cfg.nodeName, conditions: conds }));
    const wasReady = this.prev.find((c) => c.type === "Ready")?.status;
    const ready = conds.find((c) => c.type === "Ready")!;
    if (wasReady !== ready.status) this.log.info({ ready: ready.status, reason: ready.reason, message: ready.message }, "node readiness changed");
    emitNodeStatus(this.events, this.cfg.nodeName, this.prev, conds);
    this.prev = conds;
    this.metrics.heartbeatAccepted();
  }

  stop(): void {
    this.stopped.abort();
  }
}
