// LightningStor stand-in: the VolumeService over gRPC, backed by sparse files
// (VolumeStore). Bearer auth and tenant scoping through the shared IAM
// stand-in, so a token issued there works here as on the platform.
import { Metadata, Server, ServerCredentials, status, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import {
  VolumeServiceService,
  VolumeState,
  type Attachment,
  type Volume,
  type VolumeServiceServer,
} from "@plasmacloud/proto/lightningstor";
import { AuthError, tenantFor, type Principal, type TokenStore } from "../iam/tokens";
import { StoreError, VolumeStore, type StoredVolume, type Tenant } from "./store";

export interface LightningStorStandInOptions {
  tokens: TokenStore;
  dataDir: string;
  /** host:port (port 0 picks one) or unix:/path. Default 127.0.0.1:0. */
  address?: string;
}

export interface LightningStorStandIn {
  /** Where clients connect: host:port or unix:/path. */
  address: string;
  stop(): Promise<void>;
  /** Every volume of every tenant, for assertions. */
  volumes(): StoredVolume[];
  /** The sparse file holding a volume's bytes. */
  filePath(volumeId: string): string;
  /** RPCs served so far, by method name (e.g. "AttachVolume"). */
  calls(): Record<string, number>;
}

const MAX_SIZE = 1n << 44n; // 16 TiB: sparse files, but keep requests sane.

function toWire(v: StoredVolume): Volume {
  return {
    id: v.id,
    name: v.name,
    sizeBytes: v.sizeBytes,
    orgId: v.orgId,
    projectId: v.projectId,
    state: v.attachedNodeIds.length > 0 ? VolumeState.VOLUME_STATE_ATTACHED : VolumeState.VOLUME_STATE_AVAILABLE,
    parameters: { ...v.parameters },
    createdAt: v.createdAt,
    attachedNodeIds: [...v.attachedNodeIds],
  };
}

function required(field: string, value: string): void {
  if (!value) throw new StoreError(status.INVALID_ARGUMENT, `${field} is required`);
}

export async function startLightningStorStandIn(opts: LightningStorStandInOptions): Promise<LightningStorStandIn> {
  const store = new VolumeStore(opts.dataDir);
  const counts: Record<string, number> = {};

  // Wraps a handler: authenticates, resolves the tenant, maps errors to codes.
  function unary<Req extends { orgId: string; projectId: string }, Res>(
    name: string,
    fn: (req: Req, t: Tenant, p: Principal) => Promise<Res> | Res,
  ) {
    return (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>): void => {
      counts[name] = (counts[name] ?? 0) + 1;
      void (async () => {
        try {
          const p = opts.tokens.authenticate(call.metadata as Metadata);
          const t = tenantFor(p, call.request.orgId, call.request.projectId);
          cb(null, await fn(call.request, t, p));
        } catch (err) {
          if (err instanceof AuthError || err instanceof StoreError) cb({ code: err.code, details: err.message });
          else cb({ code: status.INTERNAL, details: err instanceof Error ? err.message : String(err) });
        }
      })();
    };
  }

  function checkNode(p: Principal, nodeId: string): void {
    required("node_id", nodeId);
    if (p.kind === "node" && p.nodeName && p.nodeName !== nodeId) {
      throw new StoreError(status.PERMISSION_DENIED, `principal ${p.name} may not act for node ${nodeId}`);
    }
  }

  const impl: VolumeServiceServer = {
    createVolume: unary("CreateVolume", async (req, t) => {
      required("name", req.name);
      if (req.sizeBytes <= 0n) throw new StoreError(status.INVALID_ARGUMENT, "size_bytes must be > 0");
      if (req.sizeBytes > MAX_SIZE) throw new StoreError(status.OUT_OF_RANGE, `size_bytes exceeds ${MAX_SIZE}`);
      return toWire(await store.create(t, req.name, req.sizeBytes, req.parameters));
    }),
    getVolume: unary("GetVolume", (req, t) => {
      required("id", req.id);
      return toWire(store.get(t, req.id));
    }),
    listVolumes: unary("ListVolumes", (req, t) => {
      if (req.pageSize < 0) throw new StoreError(status.INVALID_ARGUMENT, "page_size must be >= 0");
      const r = store.list(t, { name: req.name, pageSize: req.pageSize, pageToken: req.pageToken });
      return { volumes: r.volumes.map(toWire), nextPageToken: r.next };
    }),
    deleteVolume: unary("DeleteVolume", async (req, t) => {
      required("id", req.id);
      await store.delete(t, req.id);
      return {};
    }),
    expandVolume: unary("ExpandVolume", async (req, t) => {
      required("id", req.id);
      if (req.sizeBytes <= 0n) throw new StoreError(status.INVALID_ARGUMENT, "size_bytes must be > 0");
      if (req.sizeBytes > MAX_SIZE) throw new StoreError(status.OUT_OF_RANGE, `size_bytes exceeds ${MAX_SIZE}`);
      return toWire(await store.expand(t, req.id, req.sizeBytes));
    }),
    attachVolume: unary("AttachVolume", (req, t, p): Attachment => {
      required("volume_id", req.volumeId);
      checkNode(p, req.nodeId);
      const v = store.attach(t, req.volumeId, req.nodeId);
      return { volumeId: v.id, nodeId: req.nodeId, transport: "file", sizeBytes: v.sizeBytes, file: { path: store.filePath(v.id) } };
    }),
    detachVolume: unary("DetachVolume", (req, t, p) => {
      required("volume_id", req.volumeId);
      checkNode(p, req.nodeId);
      store.detach(t, req.volumeId, req.nodeId);
      return {};
    }),
  };

  const server = new Server();
  server.addService(VolumeServiceService, impl);
  const want = opts.address ?? "127.0.0.1:0";
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(want, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  const address = want.startsWith("unix:") ? want : `${want.slice(0, want.lastIndexOf(":"))}:${port}`;

  return {
    address,
    stop: async () => {
      await new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        // Do not wait forever on clients that keep streams open.
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000).unref();
      });
      await store.flush();
    },
    volumes: () => store.all(),
    filePath: (id) => store.filePath(id),
    calls: () => ({ ...counts }),
  };
}
