// Assembles the driver: LightningStor client, node-side machinery, the three
// CSI services on one unix socket, and the registration socket.
import { join } from "node:path";
import { rm } from "node:fs/promises";
import { Server } from "@grpc/grpc-js";
import { ControllerService, IdentityService, NodeService } from "@plasmacloud/proto/csi";
import { run } from "@plasmacloud/common/exec";
import { createLogger, fdSink, type Level, type Logger } from "@plasmacloud/common/log";
import { Attachers } from "./attach";
import { controllerService } from "./controller";
import { identityService } from "./identity";
import { LightningStorClient, type Tenant, type VolumeBackend } from "./lightningstor/client";
import { VolumeLocks } from "./locks";
import { Mounter, readDevice } from "./mount";
import { nodeService } from "./node";
import { startRegistration, type RegistrationHandle } from "./registration";
import { serveOnSocket, shutdown } from "./socket";
import { StagingRecords } from "./volumes/records";
import { RELEASE_VERSION } from "@plasmacloud/common/version";

export const DRIVER_NAME = "csi.lightningstor.plasmacloud.io";
export const DRIVER_VERSION = RELEASE_VERSION;

export interface DriverConfig {
  driverName: string;
  nodeId: string;
  /** CSI socket path. */
  endpoint: string;
  /** Directory the agent watches for <driver>-reg.sock; empty = do not register. */
  registryDir: string;
  stateDir: string;
  lightningstor: { address: string; tokenFile: string; tenant: Tenant };
  maxVolumesPerNode: number;
}

export function defaultConfig(): DriverConfig {
  return {
    driverName: DRIVER_NAME,
    nodeId: "",
    endpoint: `/var/lib/k8shost-agent/plugins/${DRIVER_NAME}/csi.sock`,
    registryDir: "/var/lib/k8shost-agent/plugins_registry",
    stateDir: `/var/lib/lightningstor-csi`,
    lightningstor: { address: "", tokenFile: "", tenant: { orgId: "", projectId: "" } },
    maxVolumesPerNode: 256,
  };
}

export interface RunningDriver {
  endpoint: string;
  registration?: RegistrationHandle;
  locks: VolumeLocks;
  stop(): Promise<void>;
}

/** The driver's logger: JSON lines on stderr (stdout stays free for --help). */
export function driverLogger(level: Level = "info"): Logger {
  return createLogger({ component: "lightningstor-csi", level, sink: fdSink(2) });
}

export async function startDriver(cfg: DriverConfig, opts: { log?: Logger; backend?: VolumeBackend } = {}): Promise<RunningDriver> {
  const log = opts.log ?? driverLogger();
  const backend = opts.backend ?? new LightningStorClient(cfg.lightningstor);
  const locks = new VolumeLocks();
  const deps = {
    nodeId: cfg.nodeId,
    backend,
    attachers: new Attachers(),
    mounter: new Mounter(),
    records: new StagingRecords(cfg.stateDir),
    log,
    exec: run,
    readDevice,
  };
  const server = new Server();
  server.addService(IdentityService, identityService({ driverName: cfg.driverName, version: DRIVER_VERSION, backend, log }));
  server.addService(NodeService, nodeService({ deps, locks, maxVolumesPerNode: cfg.maxVolumesPerNode, log }));
  server.addService(ControllerService, controllerService({ backend, locks, log }));
  try {
    await serveOnSocket(server, cfg.endpoint, true);
  } catch (err) {
    if (!opts.backend) backend.close();
    throw err;
  }
  log.info({ endpoint: cfg.endpoint, driver: cfg.driverName, nodeId: cfg.nodeId }, "serving CSI");

  let registration: RegistrationHandle | undefined;
  if (cfg.registryDir) {
    registration = await startRegistration({
      driverName: cfg.driverName,
      endpoint: cfg.endpoint,
      socketPath: join(cfg.registryDir, `${cfg.driverName}-reg.sock`),
      log,
    });
  }
  return {
    endpoint: cfg.endpoint,
    registration,
    locks,
    async stop() {
      // Registration first, so the agent stops routing to us before we go.
      if (registration) {
        await registration.stop();
        await rm(registration.socketPath, { force: true });
      }
      await shutdown(server);
      await rm(cfg.endpoint, { force: true });
      backend.close();
    },
  };
}
