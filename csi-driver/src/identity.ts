// CSI Identity service: who we are, what we can do, whether we can serve.
import { status } from "@grpc/grpc-js";
import {
  PluginCapability_Service_Type as ServiceType,
  PluginCapability_VolumeExpansion_Type as ExpansionType,
  type IdentityServer,
} from "@plasmacloud/proto/csi";
import type { Logger } from "@plasmacloud/common/log";
import { codeOf } from "./errors";
import { handler } from "./grpc";
import type { VolumeBackend } from "./lightningstor/client";

export interface IdentityOptions {
  driverName: string;
  version: string;
  backend: VolumeBackend;
  log: Logger;
  probeTimeoutMs?: number;
}

export function identityService(o: IdentityOptions): IdentityServer {
  return {
    getPluginInfo: handler(o.log, "GetPluginInfo", async () => ({ name: o.driverName, vendorVersion: o.version, manifest: {} })),
    getPluginCapabilities: handler(o.log, "GetPluginCapabilities", async () => ({
      capabilities: [
        { service: { type: ServiceType.CONTROLLER_SERVICE } },
        { volumeExpansion: { type: ExpansionType.ONLINE } },
      ],
    })),
    // Ready only when LightningStor answers: without it nothing can be staged.
    probe: handler(o.log, "Probe", async () => {
      try {
        await o.backend.listVolumes({ pageSize: 1, timeoutMs: o.probeTimeoutMs ?? 3000 });
        return { ready: true };
      } catch (err) {
        o.log.warn({ code: status[codeOf(err)] }, "probe: LightningStor not answering");
        return { ready: false };
      }
    }),
  };
}
