// LightningStor VolumeService client: bearer token read from a file (so it can
// be rotated without a restart; never logged), tenant added to every request,
// gRPC failures turned into BackendError carrying LightningStor's code.
import { credentials, Metadata, status } from "@grpc/grpc-js";
import { errorMessage } from "@plasmacloud/common/errors";
import { grpcCodeOf, unary, type UnaryFn } from "@plasmacloud/common/grpc";
import { TokenFile } from "@plasmacloud/common/token";
import {
  VolumeServiceClient,
  type Attachment,
  type ListVolumesResponse,
  type Volume,
} from "@plasmacloud/proto/lightningstor";
import { CsiError } from "../errors";

export interface Tenant {
  orgId: string;
  projectId: string;
}

/**
 * A failed LightningStor call with LightningStor's own gRPC status, which the
 * CSI caller sees unchanged (NOT_FOUND stays NOT_FOUND) unless a service maps it.
 */
export class BackendError extends CsiError {
  /** `failure` names the call and LightningStor's details ("GetVolume: ..."), as GrpcCallError does. */
  constructor(code: status, readonly call: string, failure: unknown) {
    super(code, `lightningstor ${errorMessage(failure)}`, { backendCall: call }, { cause: failure });
    this.name = "BackendError";
  }
}

export interface LightningStorOptions {
  /** host:port or unix:/path */
  address: string;
  tokenFile: string;
  tenant: Tenant;
  timeoutMs?: number;
}

/** The calls the driver makes; an interface so tests can substitute it. */
export interface VolumeBackend {
  createVolume(name: string, sizeBytes: bigint, parameters: Record<string, string>): Promise<Volume>;
  getVolume(id: string, timeoutMs?: number): Promise<Volume>;
  listVolumes(opts: { pageSize?: number; pageToken?: string; name?: string; timeoutMs?: number }): Promise<ListVolumesResponse>;
  deleteVolume(id: string): Promise<void>;
  expandVolume(id: string, sizeBytes: bigint): Promise<Volume>;
  attachVolume(volumeId: string, nodeId: string): Promise<Attachment>;
  detachVolume(volumeId: string, nodeId: string): Promise<void>;
  close(): void;
}

export class LightningStorClient implements VolumeBackend {
  private readonly client: VolumeServiceClient;
  private readonly token: TokenFile;

  constructor(private readonly opts: LightningStorOptions) {
    this.client = new VolumeServiceClient(opts.address, credentials.createInsecure());
    // Checked on every call (a stat beside a network round trip): a rotated
    // token takes effect on the very next call.
    this.token = new TokenFile(opts.tokenFile, 0);
  }

  private metadata(): Metadata {
    let token: string;
    try {
      token = this.token.get();
    } catch (err) {
      // Missing, unreadable or empty: this node's setup, not the caller's
      // credentials, and usually passing (a secret being written), so the CO retries.
      throw new CsiError(status.UNAVAILABLE, "LightningStor token file is unreadable", { tokenFile: this.opts.tokenFile }, { cause: err });
    }
    const md = new Metadata();
    md.set("authorization", `Bearer ${token}`);
    return md;
  }

  private async call<Req, Res>(method: string, fn: UnaryFn<Req, Res, Metadata>, req: Req, timeoutMs?: number): Promise<Res> {
    const metadata = this.metadata();
    try {
      return await unary(this.client, method, fn, req, { metadata, timeoutMs: timeoutMs ?? this.opts.timeoutMs ?? 30_000 });
    } catch (err) {
      const code = grpcCodeOf(err);
      if (code === undefined) throw err; // not a failed call but a fault here: INTERNAL
      throw new BackendError(code, method, err);
    }
  }

  createVolume(name: string, sizeBytes: bigint, parameters: Record<string, string>): Promise<Volume> {
    return this.call("CreateVolume", this.client.createVolume, { ...this.opts.tenant, name, sizeBytes, parameters });
  }

  getVolume(id: string, timeoutMs?: number): Promise<Volume> {
    return this.call("GetVolume", this.client.getVolume, { ...this.opts.tenant, id }, timeoutMs);
  }

  listVolumes(o: { pageSize?: number; pageToken?: string; name?: string; timeoutMs?: number }): Promise<ListVolumesResponse> {
    return this.call(
      "ListVolumes",
      this.client.listVolumes,
      { ...this.opts.tenant, pageSize: o.pageSize ?? 0, pageToken: o.pageToken ?? "", name: o.name ?? "" },
      o.timeoutMs,
    );
  }

  async deleteVolume(id: string): Promise<void> {
    await this.call("DeleteVolume", this.client.deleteVolume, { ...this.opts.tenant, id });
  }

  expandVolume(id: string, sizeBytes: bigint): Promise<Volume> {
    return this.call("ExpandVolume", this.client.expandVolume, { ...this.opts.tenant, id, sizeBytes });
  }

  attachVolume(volumeId: string, nodeId: string): Promise<Attachment> {
    return this.call("AttachVolume", this.client.attachVolume, { ...this.opts.tenant, volumeId, nodeId });
  }

  async detachVolume(volumeId: string, nodeId: string): Promise<void> {
    await this.call("DetachVolume", this.client.detachVolume, { ...this.opts.tenant, volumeId, nodeId });
  }

  close(): void {
    this.client.close();
  }
}
