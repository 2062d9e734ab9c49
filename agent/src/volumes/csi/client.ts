// CSI Identity + Node client over the driver's unix socket. ABORTED (another
// call on the volume is in flight) and UNAVAILABLE are retried with backoff
// within the call's time budget, decided on the gRPC status, never the text.
import { credentials, Metadata } from "@grpc/grpc-js";
import { GrpcStatus, grpcCodeOf, unary, type UnaryFn } from "@plasmacloud/common/grpc";
import * as csi from "@plasmacloud/proto/csi";
import { Backoff, sleep } from "../../retry/backoff";

const RETRYABLE = new Set<number>([GrpcStatus.ABORTED, GrpcStatus.UNAVAILABLE]);

export class CsiNodeClient {
  private readonly identity: csi.IdentityClient;
  private readonly node: csi.NodeClient;

  constructor(readonly endpoint: string, private readonly timeoutMs: number) {
    const addr = `unix:${endpoint}`;
    this.identity = new csi.IdentityClient(addr, credentials.createInsecure());
    this.node = new csi.NodeClient(addr, credentials.createInsecure(), { channelOverride: this.identity.getChannel() });
  }

  /** One RPC with retries on ABORTED/UNAVAILABLE until the time budget is spent. */
  private async call<Req, Res>(client: object, name: string, fn: UnaryFn<Req, Res, Metadata>, req: Req): Promise<Res> {
    const end = Date.now() + this.timeoutMs;
    const backoff = new Backoff(100, 5_000, 0);
    for (;;) {
      try {
        return await unary(client, name, fn, req, { metadata: new Metadata(), timeoutMs: end - Date.now(), context: { endpoint: this.endpoint } });
      } catch (err) {
        const code = grpcCodeOf(err);
        const delay = backoff.next();
        if (code === undefined || !RETRYABLE.has(code) || Date.now() + delay >= end) throw err;
        await sleep(delay);
      }
    }
  }

  pluginInfo = (): Promise<csi.GetPluginInfoResponse> => this.call(this.identity, "GetPluginInfo", this.identity.getPluginInfo, csi.GetPluginInfoRequest.fromPartial({}));
  nodeInfo = (): Promise<csi.NodeGetInfoResponse> => this.call(this.node, "NodeGetInfo", this.node.nodeGetInfo, csi.NodeGetInfoRequest.fromPartial({}));
  nodeCapabilities = (): Promise<csi.NodeGetCapabilitiesResponse> =>
    this.call(this.node, "NodeGetCapabilities", this.node.nodeGetCapabilities, csi.NodeGetCapabilitiesRequest.fromPartial({}));

  async stage(req: csi.NodeStageVolumeRequest): Promise<void> {
    await this.call(this.node, "NodeStageVolume", this.node.nodeStageVolume, req);
  }

  async unstage(req: csi.NodeUnstageVolumeRequest): Promise<void> {
    await this.call(this.node, "NodeUnstageVolume", this.node.nodeUnstageVolume, req);
  }

  async publish(req: csi.NodePublishVolumeRequest): Promise<void> {
    await this.call(this.node, "NodePublishVolume", this.node.nodePublishVolume, req);
  }

  async unpublish(req: csi.NodeUnpublishVolumeRequest): Promise<void> {
    await this.call(this.node, "NodeUnpublishVolume", this.node.nodeUnpublishVolume, req);
  }

  close(): void {
    this.node.close();
    this.identity.close();
  }
}
