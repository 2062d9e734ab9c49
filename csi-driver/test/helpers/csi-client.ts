// A CSI client over the driver's unix socket for tests and the bench: each
// RPC takes a partial request (missing fields get proto defaults, which is
// how error paths are exercised) and returns a promise; a failure is
// common/grpc's GrpcCallError, whose gRPC status codeOf reads.
import { credentials, Metadata } from "@grpc/grpc-js";
import { grpcCodeOf, unary, type UnaryFn } from "@plasmacloud/common/grpc";
import * as csi from "@plasmacloud/proto/csi";
import * as reg from "@plasmacloud/proto/pluginregistration";

function call<Req, Res>(client: object, method: string, m: UnaryFn<Req, Res, Metadata>, req: Req, timeoutMs: number): Promise<Res> {
  return unary(client, method, m, req, { metadata: new Metadata(), timeoutMs });
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
  getPluginInfo = () => call(this.identity, "getPluginInfo", this.identity.getPluginInfo, req(csi.GetPluginInfoRequest, {}), this.timeoutMs);
  getPluginCapabilities = () => call(this.identity, "getPluginCapabilities", this.identity.getPluginCapabilities, req(csi.GetPluginCapabilitiesRequest, {}), this.timeoutMs);
  probe = () => call(this.identity, "probe", this.identity.probe, req(csi.ProbeRequest, {}), this.timeoutMs);

  // Controller
  createVolume = (p: Partial<csi.CreateVolumeRequest>) => call(this.controller, "createVolume", this.controller.createVolume, req(csi.CreateVolumeRequest, p), this.timeoutMs);
  deleteVolume = (p: Partial<csi.DeleteVolumeRequest>) => call(this.controller, "deleteVolume", this.controller.deleteVolume, req(csi.DeleteVolumeRequest, p), this.timeoutMs);
  validate = (p: Partial<csi.ValidateVolumeCapabilitiesRequest>) =>
    call(this.controller, "validateVolumeCapabilities", this.controller.validateVolumeCapabilities, req(csi.ValidateVolumeCapabilitiesRequest, p), this.timeoutMs);
  listVolumes = (p: Partial<csi.ListVolumesRequest>) => call(this.controller, "listVolumes", this.controller.listVolumes, req(csi.ListVolumesRequest, p), this.timeoutMs);
  controllerGetVolume = (p: Partial<csi.ControllerGetVolumeRequest>) =>
    call(this.controller, "controllerGetVolume", this.controller.controllerGetVolume, req(csi.ControllerGetVolumeRequest, p), this.timeoutMs);
  controllerExpand = (p: Partial<csi.ControllerExpandVolumeRequest>) =>
    call(this.controller, "controllerExpandVolume", this.controller.controllerExpandVolume, req(csi.ControllerExpandVolumeRequest, p), this.timeoutMs);
  controllerPublish = (p: Partial<csi.ControllerPublishVolumeRequest>) =>
    call(this.controller, "controllerPublishVolume", this.controller.controllerPublishVolume, req(csi.ControllerPublishVolumeRequest, p), this.timeoutMs);
  controllerCapabilities = () =>
    call(this.controller, "controllerGetCapabilities", this.controller.controllerGetCapabilities, req(csi.ControllerGetCapabilitiesRequest, {}), this.timeoutMs);

  // Node
  stage = (p: Partial<csi.NodeStageVolumeRequest>) => call(this.node, "nodeStageVolume", this.node.nodeStageVolume, req(csi.NodeStageVolumeRequest, p), this.timeoutMs);
  unstage = (p: Partial<csi.NodeUnstageVolumeRequest>) => call(this.node, "nodeUnstageVolume", this.node.nodeUnstageVolume, req(csi.NodeUnstageVolumeRequest, p), this.timeoutMs);
  publish = (p: Partial<csi.NodePublishVolumeRequest>) => call(this.node, "nodePublishVolume", this.node.nodePublishVolume, req(csi.NodePublishVolumeRequest, p), this.timeoutMs);
  unpublish = (p: Partial<csi.NodeUnpublishVolumeRequest>) =>
    call(this.node, "nodeUnpublishVolume", this.node.nodeUnpublishVolume, req(csi.NodeUnpublishVolumeRequest, p), this.timeoutMs);
  stats = (p: Partial<csi.NodeGetVolumeStatsRequest>) => call(this.node, "nodeGetVolumeStats", this.node.nodeGetVolumeStats, req(csi.NodeGetVolumeStatsRequest, p), this.timeoutMs);
  nodeExpand = (p: Partial<csi.NodeExpandVolumeRequest>) => call(this.node, "nodeExpandVolume", this.node.nodeExpandVolume, req(csi.NodeExpandVolumeRequest, p), this.timeoutMs);
  nodeCapabilities = () => call(this.node, "nodeGetCapabilities", this.node.nodeGetCapabilities, req(csi.NodeGetCapabilitiesRequest, {}), this.timeoutMs);
  nodeInfo = () => call(this.node, "nodeGetInfo", this.node.nodeGetInfo, req(csi.NodeGetInfoRequest, {}), this.timeoutMs);
}

/** The kubelet-style side of registration: GetInfo then NotifyRegistrationStatus. */
export class RegistrationTestClient {
  readonly client: reg.RegistrationClient;
  constructor(socketPath: string) {
    this.client = new reg.RegistrationClient(`unix:${socketPath}`, credentials.createInsecure());
  }
  getInfo = () => call(this.client, "getInfo", this.client.getInfo, req(reg.InfoRequest, {}), 10_000);
  notify = (registered: boolean, error = "") =>
    call(this.client, "notifyRegistrationStatus", this.client.notifyRegistrationStatus, { pluginRegistered: registered, error }, 10_000);
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
    const code = grpcCodeOf(err);
    if (code !== undefined) return code;
    throw err;
  }
  throw new Error("expected the call to fail, it succeeded");
}
