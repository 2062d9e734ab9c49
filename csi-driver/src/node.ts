// CSI Node service: request validation and mapping onto the node-side volume
// logic in volumes/. One operation per volume at a time (else ABORTED).
import {
  NodeServiceCapability_RPC_Type as Rpc,
  VolumeUsage_Unit as Unit,
  type NodeServer,
  type VolumeUsage,
} from "@plasmacloud/proto/csi";
import type { Logger } from "@plasmacloud/common/log";
import { failedPrecondition, invalidArgument } from "./errors";
import { handler } from "./grpc";
import type { VolumeLocks } from "./locks";
import { parseCapability } from "./volumes/capability";
import type { NodeDeps } from "./volumes/deps";
import { Inspector } from "./volumes/inspect";
import { Publisher } from "./volumes/publishing";
import { Stager } from "./volumes/staging";
import { checkTenant } from "./volumes/tenant";

export interface NodeOptions {
  deps: NodeDeps;
  locks: VolumeLocks;
  maxVolumesPerNode: number;
  log: Logger;
}

function requirePath(field: string, value: string): string {
  if (!value) throw invalidArgument(field);
  if (!value.startsWith("/")) throw invalidArgument(field, "must be an absolute path");
  return value;
}

function requireId(value: string): string {
  if (!value) throw invalidArgument("volume_id");
  return value;
}

export function nodeService(o: NodeOptions): NodeServer {
  const stager = new Stager(o.deps);
  const publisher = new Publisher(o.deps);
  const inspector = new Inspector(o.deps);
  const { log, locks } = o;

  return {
    nodeStageVolume: handler(log, "NodeStageVolume", async (req) => {
      const id = requireId(req.volumeId);
      const staging = requirePath("staging_target_path", req.stagingTargetPath);
      const cap = parseCapability(req.volumeCapability, "volume_capability");
      await checkTenant(o.deps.backend, id, req.volumeContext);
      await locks.with(id, "NodeStageVolume", () => stager.stage(id, staging, cap));
      return {};
    }),
    nodeUnstageVolume: handler(log, "NodeUnstageVolume", async (req) => {
      const id = requireId(req.volumeId);
      const staging = requirePath("staging_target_path", req.stagingTargetPath);
      await locks.with(id, "NodeUnstageVolume", () => stager.unstage(id, staging));
      return {};
    }),
    nodePublishVolume: handler(log, "NodePublishVolume", async (req) => {
      const id = requireId(req.volumeId);
      const target = requirePath("target_path", req.targetPath);
      const cap = parseCapability(req.volumeCapability, "volume_capability");
      // The spec's code for a missing staging path when STAGE_UNSTAGE is advertised.
      if (!req.stagingTargetPath) throw failedPrecondition("staging_target_path is required (STAGE_UNSTAGE_VOLUME)");
      const staging = requirePath("staging_target_path", req.stagingTargetPath);
      await checkTenant(o.deps.backend, id, req.volumeContext);
      await locks.with(id, "NodePublishVolume", () => publisher.publish(id, staging, target, cap, req.readonly));
      return {};
    }),
    nodeUnpublishVolume: handler(log, "NodeUnpublishVolume", async (req) => {
      const id = requireId(req.volumeId);
      const target = requirePath("target_path", req.targetPath);
      await locks.with(id, "NodeUnpublishVolume", () => publisher.unpublish(id, target));
      return {};
    }),
    nodeGetVolumeStats: handler(log, "NodeGetVolumeStats", async (req) => {
      const id = requireId(req.volumeId);
      const path = requirePath("volume_path", req.volumePath);
      const s = await inspector.stats(id, path);
      const usage: VolumeUsage[] = [];
      if (s.usage) {
        usage.push({ unit: Unit.BYTES, ...s.usage.bytes }, { unit: Unit.INODES, ...s.usage.inodes });
      } else if (s.blockSizeBytes !== undefined) {
        usage.push({ unit: Unit.BYTES, total: s.blockSizeBytes, available: 0n, used: 0n });
      }
      return { usage, volumeCondition: { abnormal: s.abnormal, message: s.message } };
    }),
    nodeExpandVolume: handler(log, "NodeExpandVolume", async (req) => {
      const id = requireId(req.volumeId);
      const path = requirePath("volume_path", req.volumePath);
      if (req.volumeCapability) parseCapability(req.volumeCapability, "volume_capability");
      const required = req.capacityRange?.requiredBytes ?? 0n;
      if (required < 0n) throw invalidArgument("capacity_range.required_bytes", "must not be negative");
      const size = await locks.with(id, "NodeExpandVolume", () => inspector.expand(id, path, required));
      return { capacityBytes: size };
    }),
    nodeGetCapabilities: handler(log, "NodeGetCapabilities", async () => ({
      capabilities: [Rpc.STAGE_UNSTAGE_VOLUME, Rpc.GET_VOLUME_STATS, Rpc.EXPAND_VOLUME, Rpc.VOLUME_CONDITION, Rpc.SINGLE_NODE_MULTI_WRITER].map(
        (type) => ({ rpc: { type } }),
      ),
    })),
    nodeGetInfo: handler(log, "NodeGetInfo", async () => ({
      nodeId: o.deps.nodeId,
      maxVolumesPerNode: BigInt(o.maxVolumesPerNode),
      // No topology: LightningStor volumes are reachable from every node.
      accessibleTopology: undefined,
    })),
  };
}
