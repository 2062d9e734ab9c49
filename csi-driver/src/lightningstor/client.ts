// LightningStor VolumeService client: bearer token read from a file (so it can
// be rotated without a restart; never logged), tenant added to every request,
// gRPC failures turned into BackendError carrying LightningStor's code.
import { readFileSync, statSync } from "node:fs";
import { credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
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

export class BackendError extends CsiError {
  constructor(code: status, message: string, readonly call: string) {
    super(code, `lightningstor ${call}: ${message}`, { backendCall: call });
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

type Callback<T> = (err: ServiceError | null, res: T) => void;

export class LightningStorClient implements VolumeBackend {
  private readonly client: VolumeServiceClient;
  private token: { value: string; mtimeMs: number } | undefined;

  constructor(private readonly opts: LightningStorOptions) {
    this.client = new VolumeServiceClient(opts.address, credentials.createInsecure());
  }

  private async metadata(): Promise<Metadata> {
    let st;
    try {
      st = statSync(this.opts.tokenFile);
    } catch (err) {
      throw new CsiError(status.UNAVAILABLE, "LightningStor token file is unreadable", { tokenFile: this.opts.tokenFile }, { cause: err });
    }
    if (!this.token || this.token.mtimeMs !== st.mtimeMs) {
      this.token = { value: readFileSync(this.opts.tokenFile, "utf8").trim(), mtimeMs: st.mtimeMs };
    }
    const md = new Metadata();
    md.set("authorization", `Bearer ${this.token.value}`);
    return md;
  }

  private async call<Req, Res>(
    name: string,
    fn: (req: Req, md: Metadata, opts: { deadline: Date }, cb: Callback<Res>) => unknown,
    req: Req,
    timeoutMs?: number,
  ): Promise<Res> {
    const md = await this.metadata();
    const deadline = new Date(Date.now() + (timeoutMs ?? this.opts.timeoutMs ?? 30_000));
    return new Promise<Res>((resolve, reject) => {
      fn.call(this.client, req, md, { deadline }, (err, res) => {
        if (err) reject(new BackendError(err.code ?? status.UNKNOWN, err.details || err.message, name));
        else resolve(res);
      });
    });
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
