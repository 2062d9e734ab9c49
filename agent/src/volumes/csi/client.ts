// CSI Identity + Node client over the driver's unix socket. gRPC codes become
// AgentError codes; ABORTED (another call on the volume is in flight) and
// UNAVAILABLE are retried with backoff within the call's time budget.
import { credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import * as csi from "@plasmacloud/proto/csi";
import { AgentError, type ErrorCode } from "../../errors";

const codeMap: Partial<Record<number, ErrorCode>> = {
  [status.INVALID_ARGUMENT]: "InvalidArgument",
  [status.NOT_FOUND]: "NotFound",
  [status.ALREADY_EXISTS]: "Conflict",
  [status.FAILED_PRECONDITION]: "Conflict",
  [status.ABORTED]: "Unavailable",
  [status.UNAVAILABLE]: "Unavailable",
  [status.PERMISSION_DENIED]: "PermissionDenied",
  [status.UNAUTHENTICATED]: "Unauthenticated",
  [status.DEADLINE_EXCEEDED]: "DeadlineExceeded",
  [status.OUT_OF_RANGE]: "InvalidArgument",
};

const RETRYABLE = new Set<number>([status.ABORTED, status.UNAVAILABLE]);

type Cb<Res> = (err: ServiceError | null, res: Res) => void;
type Method<Req, Res> = (req: Req, md: Metadata, opts: { deadline: Date }, cb: Cb<Res>) => unknown;

export class CsiNodeClient {
  private readonly identity: csi.IdentityClient;
  private readonly node: csi.NodeClient;

  constructor(readonly endpoint: string, private readonly timeoutMs: number) {
    const addr = `unix:${endpoint}`;
    this.identity = new csi.IdentityClient(addr, credentials.createInsecure());
    this.node = new csi.NodeClient(addr, credentials.createInsecure(), { channelOverride: this.identity.getChannel() });
  }

  private once<Req, Res>(client: object, name: string, fn: Method<Req, Res>, req: Req, deadline: number): Promise<Res> {
    return new Promise((resolve, reject) => {
      fn.call(client, req, new Metadata(), { deadline: new Date(deadline) }, (err, res) => {
        if (!err) return resolve(res);
        const code = (typeof err.code === "number" && codeMap[err.code]) || "Internal";
        reject(new AgentError(code, `${name}: ${err.details || err.message}`, { method: name, grpcCode: err.code, endpoint: this.endpoint }, { cause: err }));
      });
    });
  }

  /** One RPC with retries on ABORTED/UNAVAILABLE until the time budget is spent. */
  private async call<Req, Res>(client: object, name: string, fn: Method<Req, Res>, req: Req): Promise<Res> {
    const end = Date.now() + this.timeoutMs;
    let delay = 100;
    for (;;) {
      try {
        return await this.once(client, name, fn, req, end);
      } catch (err) {
        const grpcCode = err instanceof AgentError ? err.context.grpcCode : undefined;
        if (typeof grpcCode !== "number" || !RETRYABLE.has(grpcCode) || Date.now() + delay >= end) throw err;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5_000);
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
