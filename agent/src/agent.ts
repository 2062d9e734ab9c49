// Wires the agent together: control-plane client, runtime, seams, the node
// controller and the pod controller as separate loops, and local endpoints.
import { DeletePodRequest, GetSecretRequest, type Pod } from "@plasmacloud/proto/k8shost";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { errorCode, errorMessage } from "@plasmacloud/common/errors";
import type { Logger } from "@plasmacloud/common/log";
import type { AgentConfig } from "./config/schema";
import { ControlPlane } from "./controlplane/client";
import { PodSource } from "./controlplane/podsource";
import { HostResolvConf } from "./dns/resolv";
import { controlPlaneEnvObjects } from "./env/objects";
import { EnvResolver } from "./env/resolve";
import { EventRecorder } from "./events/recorder";
import { controlPlaneSink } from "./events/sink";
import { ContainerLogManager, runningLogs } from "./logs/manager";
import { NovanetNetwork } from "./network/novanet";
import { startConfiguredNodeApi } from "./nodeapi/start";
import { RuntimeManagedNetwork } from "./network/runtime-managed";
import type { PodNetwork } from "./network/types";
import { NodeController, nodeObject } from "./node/controller";
import { resolveNodeIP } from "./node/address";
import { staticFacts } from "./node/readings";
import { startHttp, type HealthSource } from "./observe/http";
import { AgentMetrics } from "./observe/metrics";
import { PodStartTracker } from "./observe/pod-start";
import { startSystemdNotify } from "./observe/sd-notify";
import { PodController } from "./pods/controller";
import { bytes } from "./resources/quantity";
import { ImageManager } from "./pods/images";
import { abortHooksOnDelete } from "./pods/kill";
import { PodSyncer } from "./pods/sync";
import { ProbeManager } from "./probes/manager";
import { servicesLoop } from "./services/start";
import { CriRuntime } from "./runtime/cri-runtime";
import { instrumentRuntime } from "./runtime/instrumented";
import { StatusManager } from "./status/manager";
import { VolumeManager } from "./volumes/manager";

export interface RunningAgent {
  healthzPort: number;
  metrics: AgentMetrics;
  stop(): Promise<void>;
}

export async function startAgent(cfg: AgentConfig, log: Logger): Promise<RunningAgent> {
  // node.ip (or the default-route address): the InternalIP and every pod's hostIP. Not this host's: no start.
  const nodeIP = resolveNodeIP(cfg.node.ip);
  await mkdir(cfg.rootDir, { recursive: true, mode: 0o700 });
  const metrics = new AgentMetrics();
  const cp = new ControlPlane(cfg.controlPlane.address, cfg.controlPlane.tokenFile, cfg.controlPlane.caFile, cfg.controlPlane.requestTimeoutSeconds * 1000);
  // Every runtime operation counted and timed, as the kubelet's instrumentedRuntimeService.
  const runtime = instrumentRuntime(new CriRuntime({
    endpoint: cfg.runtime.endpoint,
    timeoutMs: cfg.runtime.requestTimeoutSeconds * 1000,
    metrics,
    nodeName: cfg.nodeName,
    runtimeHandler: cfg.runtime.runtimeHandler,
    podLogsDir: cfg.podLogsDir,
    rootDir: cfg.rootDir,
  }), metrics.kubelet);
  const starts = new PodStartTracker(metrics.kubelet, log);
  const facts = await staticFacts(cfg.nodeName, cfg.rootDir, nodeIP);
  let runtimeName = "containerd";
  try {
    runtimeName = (await runtime.version()).runtimeName || runtimeName;
  } catch (err) {
    log.warn({ err: String(err) }, "container runtime not answering at start; continuing, the node reports NotReady");
  }

  // The kubelet's event recorder: aggregated, rate-limited, sent on its own loop.
  const recorder = new EventRecorder(controlPlaneSink(cp), { nodeName: cfg.nodeName, log, onDrop: (reason) => metrics.eventsDropped.inc({ reason }) });
  const readSecret = async (pod: Pod, name: string): Promise<Uint8Array | undefined> => {
    const m = pod.metadata!;
    try {
      const s = await cp.call("GetSecret", cp.secrets.getSecret.bind(cp.secrets), GetSecretRequest.fromPartial({ ref: { orgId: m.orgId, projectId: m.projectId, namespace: m.namespace, name } }));
      return s.data[".dockerconfigjson"];
    } catch (err) {
      if (errorCode(err) === "NotFound") return undefined;
      throw err;
    }
  };
  const finalize = async (pod: Pod): Promise<void> => {
    const m = pod.metadata!;
    try {
      await cp.call(
        "DeletePod",
        cp.pods.deletePod.bind(cp.pods),
        DeletePodRequest.fromPartial({ ref: { orgId: m.orgId, projectId: m.projectId, namespace: m.namespace, name: m.name }, gracePeriodSeconds: 0n, uid: m.uid }),
      );
      log.info({ pod: `${m.namespace}/${m.name}` }, "pod deletion finalized");
    } catch (err) {
      if (errorCode(err) !== "NotFound" && errorCode(err) !== "Conflict") throw err;
    }
  };

  const network: PodNetwork =
    cfg.network.mode === "novanet" ? new NovanetNetwork(cfg.network.novanet) : new RuntimeManagedNetwork();
  // The downward API's value of a limit a container does not set.
  const allocatable = nodeObject(cfg, facts, undefined).status!.allocatable;
  const volumes = VolumeManager.fromConfig(cfg, cp, log, allocatable, recorder);
  const settings = { nodeName: cfg.nodeName, cgroupRoot: cfg.cgroupRoot, clusterDNS: cfg.clusterDNS, hostDNS: new HostResolvConf(), memoryCapacityBytes: facts.memoryBytes, security: { ...cfg.security, seccompProfileRoot: join(cfg.rootDir, "seccomp") } };
  let gcDone!: () => void;
  const newSandboxGate = new Promise<void>((r) => (gcDone = r));
  // A changed probe result wakes its pod's sync (the controller is made below).
  let wakePod = (_uid: string): void => undefined;
  const probes = new ProbeManager({ exec: runtime.execSync.bind(runtime), events: recorder, log, onChange: (uid) => wakePod(uid) });
  const syncer = new PodSyncer({ probes, newSandboxGate, runtime, network, volumes, images: new ImageManager(runtime, readSecret, starts.pullEvents(recorder)), phases: starts, settings, log, finalize, events: recorder, env: new EnvResolver(controlPlaneEnvObjects(cp), allocatable), networkCheckMs: cfg.network.novanet.checkSeconds * 1000, nodeTaints: cfg.node.taints });
  const status = new StatusManager(cp, log, starts);
  const pods = new PodController(syncer, runtime, status, metrics, log, {
    relistMs: cfg.runtime.relistSeconds * 1000,
    eventedRelistMs: cfg.runtime.eventedRelistSeconds * 1000,
    resyncMs: cfg.syncFrequencySeconds * 1000,
    starts,
    runtimeName,
    hostIP: nodeIP,
    // Once the agent knows every sandbox it keeps, attachments of any other go.
    afterAdoption: async () => {
      try {
        if (network.gc) {
          // Every sandbox counts as valid, not only ours: other CRI clients' pods share the network.
          const valid = await runtime.allSandboxIds();
          await network.gc(valid);
          log.info({ sandboxes: valid.length }, "network GC done: attachments of vanished sandboxes released");
        }
      } catch (err) {
        log.warn({ err: errorMessage(err) }, "network GC failed; stale attachments stay until the next start");
      } finally {
        gcDone();
      }
    },
  });
  wakePod = (uid) => pods.wake(uid);
  // kube-proxy's job (services/): it learns the tenants' pod IPs from the same pod events.
  const services = servicesLoop(cfg, cp, log);
  const podSink = abortHooksOnDelete(pods, syncer.killer);
  const source = new PodSource(cp, cfg.nodeName, services ? services.podSink(podSink) : podSink, log, cfg.podResyncSeconds * 1000);
  const logManager = new ContainerLogManager({
    running: () => runningLogs(runtime, cfg.podLogsDir, () => pods.runtimeSnapshot(cfg.logs.containerLogMonitorIntervalSeconds * 1000)),
    runtime,
    policy: { maxSizeBytes: bytes(cfg.logs.containerLogMaxSize), maxFiles: cfg.logs.containerLogMaxFiles },
    intervalMs: cfg.logs.containerLogMonitorIntervalSeconds * 1000,
    log,
  });
  // exec, attach, port-forward and logs for clients off the node; its port (when 0: the one bound) is published on the node.
  const nodeApi = await startConfiguredNodeApi(cfg, cp, runtime, log);
  const nodeCfg = nodeApi ? { ...cfg, server: { ...cfg.server, port: nodeApi.port } } : cfg;
  const node = new NodeController(nodeCfg, cp, runtime, metrics, log, facts, recorder);

  const loops = [recorder.run(), node.run(), source.run(), pods.run(), status.run(), logManager.run(), ...(services ? [services.run()] : [])];
  const health: HealthSource = {
    healthProblems: () => {
      // While the runtime's events flow, relists are rare: they count as the runtime seen now (pods/pleg.ts).
      const seenAt = pods.runtimeSeenAt;
      const stale = Date.now() - seenAt;
      return seenAt && stale > 60_000 ? [`runtime relist last succeeded ${Math.round(stale / 1000)}s ago`] : [];
    },
  };
  const http = await startHttp(cfg.healthz.address, cfg.healthz.port, metrics, health);
  // Under systemd (Type=notify): READY now, then watchdog pings while that same health is good.
  const notifier = startSystemdNotify({ health, log });
  log.info({ node: cfg.nodeName, controlPlane: cfg.controlPlane.address, runtime: cfg.runtime.endpoint, healthz: `${cfg.healthz.address}:${http.port}` }, "k8shost-agent started");

  return {
    healthzPort: http.port,
    metrics,
    async stop() {
      notifier.stop();
      node.stop();
      source.stop();
      services?.stop();
      pods.stop();
      probes.stop();
      status.stop();
      logManager.stop();
      recorder.stop();
      volumes.stop();
      await Promise.race([Promise.allSettled(loops), new Promise((r) => setTimeout(r, 3000))]);
      http.server.close();
      await nodeApi?.close();
      runtime.close();
      cp.close();
    },
  };
}
