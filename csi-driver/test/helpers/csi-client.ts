// A CSI client over the driver's unix socket for tests and the bench: each
// RPC takes a partial request (missing fields get proto defaults, which is
// how error paths are exercised) and returns a promise.
import { credentials, Metadata, type CallOptions, type ClientUnaryCall, type ServiceError } from "@grpc/grpc-js";
import * as csi from "@plasmacloud/proto/csi";
import * as reg from "@plasmacloud/proto/pluginregistration";

type Cb<Res> = (err: ServiceError | null, res: Res) => void;
type Method<Req, Res> = (req: Req, md: Metadata, opts: Partial<CallOptions>, cb: Cb<Res>) => ClientUnaryCall;

function call<Req, Res>(client: object, m: Method<Req, Res>, req: Req, timeoutMs: number): Promise<Res> {
  return new Promise((resolve, reject) => {
    m.call(client, req, new Metadata(), { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

interface Codec<T> {
  fromPartial(o: Record<string, never>): T;
}
const req = <T>(codec: Codec<T>, p: Partial<T>): T => ({ ...codec.fromPartial({}), ...p });

export class CsiTestClient {
  readonly identity: csi.IdentityClient;
  readonly node: csi.NodeClient;
  readonly controller: csi.ControllerClient;

  constructor(readonly socketPath: string, private readonly timeoutMs = 60_000) {
    const addr = `unix:${socketPath}`;
    this.identity = new csi.IdentityClient(addr, credentials.createInsecure());
    this.node = new csi.NodeClient(addr, credentials.createInsecure());
    this.controller = new csi.ControllerClient(addr, credentials.createInsecure());
  }

  close(): void {
    this.identity.close();
    this.node.close();
    this.controller.close();
  }

  // Identity
  getPluginInfo = () => call(this.identity, this.identity.getPluginInfo, req(csi.GetPluginInfoRequest, {}), this.timeoutMs);
  getPluginCapabilities = () => call(this.identity, this.identity.getPluginCapabilities, req(csi.GetPluginCapabilitiesRequest, {}), this.timeoutMs);
  probe = () => call(this.identity, this.identity.probe, req(csi.ProbeRequest, {}), this.timeoutMs);

  // Controller
  createVolume = (p: Partial<csi.CreateVolumeRequest>) => call(this.controller, this.controller.createVolume, req(csi.CreateVolumeRequest, p), this.timeoutMs);
  deleteVolume = (p: Partial<csi.DeleteVolumeRequest>) => call(this.controller, this.controller.deleteVolume, req(csi.DeleteVolumeRequest, p), this.timeoutMs);
  validate = (p: Partial<csi.ValidateVolumeCapabilitiesRequest>) =>
    call(this.controller, this.controller.validateVolumeCapabilities, req(csi.ValidateVolumeCapabilitiesRequest, p), this.timeoutMs);
  listVolumes = (p: Partial<csi.ListVolumesRequest>) => call(this.controller, this.controller.listVolumes, req(csi.ListVolumesRequest, p), this.timeoutMs);
  controllerGetVolume = (p: Partial<csi.ControllerGetVolumeRequest>) =>
    call(this.controller, this.controller.controllerGetVolume, req(csi.ControllerGetVolumeRequest, p), this.timeoutMs);
  controllerExpand = (p: Partial<csi.ControllerExpandVolumeRequest>) =>
    call(this.controller, this.controller.controllerExpandVolume, req(csi.ControllerExpandVolumeRequest, p), this.timeoutMs);
  controllerPublish = (p: Partial<csi.ControllerPublishVolumeRequest>) =>
    call(this.controller, this.controller.controllerPublishVolume, req(csi.ControllerPublishVolumeRequest, p), this.timeoutMs);
  controllerCapabilities = () =>
    call(this.controller, this.controller.controllerGetCapabilities, req(csi.ControllerGetCapabilitiesRequest, {}), this.timeoutMs);

  // Node
  stage = (p: Partial<csi.NodeStageVolumeRequest>) => call(this.node, this.node.nodeStageVolume, req(csi.NodeStageVolumeRequest, p), this.timeoutMs);
  unstage = (p: Partial<csi.NodeUnstageVolumeRequest>) => call(this.node, this.node.nodeUnstageVolume, req(csi.NodeUnstageVolumeRequest, p), this.timeoutMs);
  publish = (p: Partial<csi.NodePublishVolumeRequest>) => call(this.node, this.node.nodePublishVolume, req(csi.NodePublishVolumeRequest, p), this.timeoutMs);
  unpublish = (p: Partial<csi.NodeUnpublishVolumeRequest>) =>
    call(this.node, this.node.nodeUnpublishVolume, req(csi.NodeUnpublishVolumeRequest, p), this.timeoutMs);
  stats = (p: Partial<csi.NodeGetVolumeStatsRequest>) => call(this.node, this.node.nodeGetVolumeStats, req(csi.NodeGetVolumeStatsRequest, p), this.timeoutMs);
  nodeExpand = (p: Partial<csi.NodeExpandVolumeRequest>) => call(this.node, this.node.nodeExpandVolume, req(csi.NodeExpandVolumeRequest, p), this.timeoutMs);
  nodeCapabilities = () => call(this.node, this.node.nodeGetCapabilities, req(csi.NodeGetCapabilitiesRequest, {}), this.timeoutMs);
  nodeInfo = () => call(this.node, this.node.nodeGetInfo, req(csi.NodeGetInfoRequest, {}), this.timeoutMs);
}

/** The kubelet-style side of registration: GetInfo then NotifyRegistrationStatus. */
export class RegistrationTestClient {
  readonly client: reg.RegistrationClient;
  constructor(socketPath: string) {
    this.client = new reg.RegistrationClient(`unix:${socketPath}`, credentials.createInsecure());
  }
  getInfo = () => call(this.client, this.client.getInfo, req(reg.InfoRequest, {}), 10_000);
  notify = (registered: boolean, error = "") =>
    call(this.client, this.client.notifyRegistrationStatus, { pluginRegistered: registered, error }, 10_000);
  close(): void {
    this.client.close();
  }
}

export const Mode = csi.VolumeCapability_AccessMode_Mode;

export function mountCap(fsType = "ext4", mode: csi.VolumeCapability_AccessMode_Mode = Mode.SINGLE_NODE_WRITER, mountFlags: string[] = []): csi.VolumeCapability {
  return { mount: { fsType, mountFlags, volumeMountGroup: "" }, accessMode: { mode } };
}

export function blockCap(mode: csi.VolumeCapability_AccessMode_Mode = Mode.SINGLE_NODE_WRITER): csi.VolumeCapability {
  return { block: {}, accessMode: { mode } };
}

/** The gRPC status code a promise rejected with (fails the test if it resolved). */
export async function codeOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (err) {
    if (err && typeof err === "object" && "code" in err && typeof err.code === "number") return err.code;
    throw err;
  }
  throw new Error("expected the call to fail, it succeeded");
}
