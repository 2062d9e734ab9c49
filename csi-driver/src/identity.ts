// CSI Identity service: who we are, what we can do, whether we can serve.
import { status } from "@grpc/grpc-js";
import {
  PluginCapability_Service_Type as ServiceType,
  PluginCapability_VolumeExpansion_Type as ExpansionType,
  type IdentityServer,
} from "@plasmacloud/proto/csi";
import { codeOf } from "./errors";
import { unary } from "./grpc";
import type { VolumeBackend } from "./lightningstor/client";
import type { Logger } from "./log";

export interface IdentityOptions {
  driverName: string;
  version: string;
  backend: VolumeBackend;
  log: Logger;
  probeTimeoutMs?: number;
}

export function identityService(o: IdentityOptions): IdentityServer {
  return {
    getPluginInfo: unary(o.log, "GetPluginInfo", async () => ({ name: o.driverName, vendorVersion: o.version, manifest: {} })),
    getPluginCapabilities: unary(o.log, "GetPluginCapabilities", async () => ({
      capabilities: [
        { service: { type: ServiceType.CONTROLLER_SERVICE } },
        { volumeExpansion: { type: ExpansionType.ONLINE } },
      ],
    })),
    // Ready only when LightningStor answers: without it nothing can be staged.
    probe: unary(o.log, "Probe", async () => {
      try {
        await o.backend.listVolumes({ pageSize: 1, timeoutMs: o.probeTimeoutMs ?? 3000 });
        return { ready: true };
      } catch (err) {
        o.log.warn("probe: LightningStor not answering", { code: status[codeOf(err)] });
        return { ready: false };
      }
    }),
  };
}
