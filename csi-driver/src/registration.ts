// Plugin registration the way node-driver-registrar does it for the kubelet:
// a Registration service on <registry>/<driver>-reg.sock; the node agent
// watches the registry directory, calls GetInfo, then reports the outcome
// with NotifyRegistrationStatus.
import { Server } from "@grpc/grpc-js";
import { RegistrationService, type RegistrationServer } from "@plasmacloud/proto/pluginregistration";
import type { Logger } from "@plasmacloud/common/log";
import { handler } from "./grpc";
import { serveOnSocket, shutdown } from "./socket";

export interface RegistrationOptions {
  driverName: string;
  /** The CSI endpoint socket the agent should use. */
  endpoint: string;
  /** The registration socket path. */
  socketPath: string;
  log: Logger;
  onStatus?: (registered: boolean, error: string) => void;
}

export interface RegistrationHandle {
  socketPath: string;
  /** The last status the agent reported, if any. */
  lastStatus(): { registered: boolean; error: string } | undefined;
  stop(): Promise<void>;
}

export async function startRegistration(o: RegistrationOptions): Promise<RegistrationHandle> {
  let last: { registered: boolean; error: string } | undefined;
  const impl: RegistrationServer = {
    getInfo: handler(o.log, "Registration.GetInfo", async () => ({
      type: "CSIPlugin",
      name: o.driverName,
      endpoint: o.endpoint,
      supportedVersions: ["1.0.0"],
    })),
    notifyRegistrationStatus: handler(o.log, "Registration.NotifyRegistrationStatus", async (req) => {
      last = { registered: req.pluginRegistered, error: req.error };
      if (req.pluginRegistered) o.log.info({ driver: o.driverName }, "registered with the node agent");
      else o.log.error({ driver: o.driverName, error: req.error }, "node agent refused registration");
      o.onStatus?.(req.pluginRegistered, req.error);
      return {};
    }),
  };
  const server = new Server();
  server.addService(RegistrationService, impl);
  // The registry directory is shared with other plugins: leave its mode alone.
  await serveOnSocket(server, o.socketPath, false);
  return { socketPath: o.socketPath, lastStatus: () => last, stop: () => shutdown(server) };
}
