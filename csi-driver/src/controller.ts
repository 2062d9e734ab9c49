// CSI Controller service: provisioning through LightningStor. Attach is not
// modelled here (no PUBLISH_UNPUBLISH_VOLUME): the node attaches the volume
// itself in NodeStageVolume, so a CO needs no attacher round trip.
import { status } from "@grpc/grpc-js";
import {
  ControllerServiceCapability_RPC_Type as Rpc,
  type CapacityRange,
  type ControllerServer,
  type Volume as CsiVolume,
  type VolumeCapability,
} from "@plasmacloud/proto/csi";
import type { Volume } from "@plasmacloud/proto/lightningstor";
import type { Logger } from "@plasmacloud/common/log";
import { alreadyExists, CsiError, failedPrecondition, invalidArgument, notFound } from "./errors";
import { handler, unimplemented } from "./grpc";
import { BackendError, type VolumeBackend } from "./lightningstor/client";
import type { VolumeLocks } from "./locks";
import { parseCapability, unsupportedReason, type Capability } from "./volumes/capability";

export interface ControllerOptions {
  backend: VolumeBackend;
  locks: VolumeLocks;
  log: Logger;
  defaultSizeBytes?: bigint;
}

const MiB = 1n << 20n;
const GiB = 1n << 30n;
// mkfs.xfs refuses filesystems smaller than this.
const XFS_MIN = 300n * MiB;

const roundUp = (n: bigint, unit: bigint): bigint => ((n + unit - 1n) / unit) * unit;

/** Picks a size honouring the range: MiB-aligned when the range allows it. */
export function sizeFor(range: CapacityRange | undefined, caps: Capability[], defaultSize: bigint): bigint {
  const required = range?.requiredBytes ?? 0n;
  const limit = range?.limitBytes ?? 0n;
  if (required < 0n) throw invalidArgument("capacity_range.required_bytes", "must not be negative");
  if (limit < 0n) throw invalidArgument("capacity_range.limit_bytes", "must not be negative");
  if (limit > 0n && required > limit) throw new CsiError(status.OUT_OF_RANGE, "required_bytes exceeds limit_bytes");
  // Smallest volume the requested filesystems can live on (block: one page).
  const hardMin = caps.some((c) => c.access === "mount" && c.fsType === "xfs") ? XFS_MIN : caps.some((c) => c.access === "mount") ? MiB : 4096n;
  if (limit > 0n && limit < hardMin) throw new CsiError(status.OUT_OF_RANGE, `limit_bytes is below the minimum volume size ${hardMin}`);
  let want = required > 0n ? required : limit > 0n && limit < defaultSize ? limit : defaultSize;
  if (want < hardMin) want = hardMin;
  for (const unit of [MiB, 4096n]) {
    const size = roundUp(want, unit);
    if (limit === 0n || size <= limit) return size;
  }
  throw new CsiError(status.OUT_OF_RANGE, `no size >= ${want} fits limit_bytes ${limit}`, { limit: limit.toString() });
}

function fitsRange(size: bigint, range: CapacityRange | undefined): boolean {
  const required = range?.requiredBytes ?? 0n;
  const limit = range?.limitBytes ?? 0n;
  return size >= required && (limit === 0n || size <= limit);
}

function sameParams(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

function toCsi(v: Volume): CsiVolume {
  return { volumeId: v.id, capacityBytes: v.sizeBytes, volumeContext: {}, contentSource: undefined, accessibleTopology: [] };
}

function parseCaps(caps: VolumeCapability[]): Capability[] {
  if (caps.length === 0) throw invalidArgument("volume_capabilities");
  return caps.map((c, i) => parseCapability(c, `volume_capabilities[${i}]`));
}

/** LightningStor's NOT_FOUND becomes the CSI NOT_FOUND; the rest pass through. */
async function getVolume(backend: VolumeBackend, id: string): Promise<Volume> {
  try {
    return await backend.getVolume(id);
  } catch (err) {
    if (err instanceof BackendError && err.code === status.NOT_FOUND) throw notFound(`volume ${id} does not exist`, { volumeId: id });
    throw err;
  }
}

export function controllerService(o: ControllerOptions): ControllerServer {
  const { backend, log, locks } = o;
  const defaultSize = o.defaultSizeBytes ?? GiB;

  async function findByName(name: string): Promise<Volume | undefined> {
    return (await backend.listVolumes({ name, pageSize: 1 })).volumes[0];
  }

  function compatible(v: Volume, name: string, range: CapacityRange | undefined, params: Record<string, string>): CsiVolume {
    if (!fitsRange(v.sizeBytes, range) || !sameParams(v.parameters, params)) {
      throw alreadyExists(`volume ${JSON.stringify(name)} exists with an incompatible size or parameters`, { volumeId: v.id });
    }
    return toCsi(v);
  }

  return {
    createVolume: handler(log, "CreateVolume", async (req) => {
      if (!req.name) throw invalidArgument("name");
      const caps = parseCaps(req.volumeCapabilities);
      if (req.volumeContentSource) throw invalidArgument("volume_content_source", "is not supported (no snapshots or clones)");
      const size = sizeFor(req.capacityRange, caps, defaultSize);
      return locks.with(`name:${req.name}`, "CreateVolume", async () => {
        const existing = await findByName(req.name);
        if (existing) return { volume: compatible(existing, req.name, req.capacityRange, req.parameters) };
        try {
          const v = await backend.createVolume(req.name, size, req.parameters);
          log.info({ volumeId: v.id, sizeBytes: v.sizeBytes.toString() }, "volume created");
          return { volume: toCsi(v) };
        } catch (err) {
          // Another controller won the race for the name: answer as a repeat.
          if (err instanceof BackendError && err.code === status.ALREADY_EXISTS) {
            const raced = await findByName(req.name);
            if (raced) return { volume: compatible(raced, req.name, req.capacityRange, req.parameters) };
          }
          throw err;
        }
      });
    }),
    deleteVolume: handler(log, "DeleteVolume", async (req) => {
      if (!req.volumeId) throw invalidArgument("volume_id");
      await locks.with(req.volumeId, "DeleteVolume", async () => {
        try {
          await backend.deleteVolume(req.volumeId);
          log.info({ volumeId: req.volumeId }, "volume deleted");
        } catch (err) {
          if (err instanceof BackendError && err.code === status.NOT_FOUND) return; // already gone: success
          if (err instanceof BackendError && err.code === status.FAILED_PRECONDITION) {
            throw failedPrecondition("volume is in use (attached to a node)", { volumeId: req.volumeId });
          }
          throw err;
        }
      });
      return {};
    }),
    validateVolumeCapabilities: handler(log, "ValidateVolumeCapabilities", async (req) => {
      if (!req.volumeId) throw invalidArgument("volume_id");
      if (req.volumeCapabilities.length === 0) throw invalidArgument("volume_capabilities");
      await getVolume(backend, req.volumeId);
      for (const c of req.volumeCapabilities) {
        const why = unsupportedReason(c);
        if (why) return { confirmed: undefined, message: why };
      }
      return {
        confirmed: { volumeContext: req.volumeContext, volumeCapabilities: req.volumeCapabilities, parameters: req.parameters },
        message: "",
      };
    }),
    listVolumes: handler(log, "ListVolumes", async (req) => {
      if (req.maxEntries < 0) throw invalidArgument("max_entries", "must not be negative");
      try {
        const r = await backend.listVolumes({ pageSize: req.maxEntries, pageToken: req.startingToken });
        return { entries: r.volumes.map((v) => ({ volume: toCsi(v), status: undefined })), nextToken: r.nextPageToken };
      } catch (err) {
        if (err instanceof BackendError && err.code === status.INVALID_ARGUMENT) {
          throw new CsiError(status.ABORTED, "starting_token is not valid: restart listing without it");
        }
        throw err;
      }
    }),
    controllerGetVolume: handler(log, "ControllerGetVolume", async (req) => {
      if (!req.volumeId) throw invalidArgument("volume_id");
      const v = await getVolume(backend, req.volumeId);
      return { volume: toCsi(v), status: { publishedNodeIds: [], volumeCondition: undefined } };
    }),
    controllerExpandVolume: handler(log, "ControllerExpandVolume", async (req) => {
      if (!req.volumeId) throw invalidArgument("volume_id");
      if (!req.capacityRange) throw invalidArgument("capacity_range");
      if (req.capacityRange.requiredBytes <= 0n) throw invalidArgument("capacity_range.required_bytes", "must be > 0");
      const cap = req.volumeCapability ? parseCapability(req.volumeCapability, "volume_capability") : undefined;
      const size = sizeFor(req.capacityRange, cap ? [cap] : [], 0n);
      return locks.with(req.volumeId, "ControllerExpandVolume", async () => {
        const v = await getVolume(backend, req.volumeId);
        const grown = v.sizeBytes >= size ? v : await backend.expandVolume(req.volumeId, size);
        if (grown !== v) log.info({ volumeId: v.id, sizeBytes: grown.sizeBytes.toString() }, "volume expanded");
        // The node must refresh the loop device's size even for block access,
        // and grow the filesystem for mounts: always ask for node expansion.
        return { capacityBytes: grown.sizeBytes, nodeExpansionRequired: true };
      });
    }),
    controllerGetCapabilities: handler(log, "ControllerGetCapabilities", async () => ({
      capabilities: [Rpc.CREATE_DELETE_VOLUME, Rpc.LIST_VOLUMES, Rpc.EXPAND_VOLUME, Rpc.GET_VOLUME, Rpc.SINGLE_NODE_MULTI_WRITER].map(
        (type) => ({ rpc: { type } }),
      ),
    })),
    controllerPublishVolume: unimplemented(log, "ControllerPublishVolume"),
    controllerUnpublishVolume: unimplemented(log, "ControllerUnpublishVolume"),
    getCapacity: unimplemented(log, "GetCapacity"),
    createSnapshot: unimplemented(log, "CreateSnapshot"),
    deleteSnapshot: unimplemented(log, "DeleteSnapshot"),
    listSnapshots: unimplemented(log, "ListSnapshots"),
  };
}
