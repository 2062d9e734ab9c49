// NodeGetVolumeStats and NodeExpandVolume: both start from a path that is a
// published/staged mount or device node and ask the kernel about it.
import { lstat } from "node:fs/promises";
import { status } from "@grpc/grpc-js";
import { errorMessage } from "@plasmacloud/common/errors";
import { ExecError } from "@plasmacloud/common/exec";
import { canonicalPath, mountAt, readMountInfo, type MountEntry } from "@plasmacloud/common/mountinfo";
import { blockDeviceSize, viewBase, viewsOf } from "../attach";
import { CAP_SYS_RESOURCE, hasCapability } from "../capabilities";
import { CsiError, failedPrecondition, notFound } from "../errors";
import { filesystemUsage, growFilesystem, type FsUsage } from "../mount";
import { isReadOnlyMode } from "./capability";
import type { NodeDeps } from "./deps";
import { deviceOfPath, mountsOfDevice } from "./devices";

export interface VolumeStats {
  usage?: FsUsage;
  /** Block volumes report only their size. */
  blockSizeBytes?: bigint;
  abnormal: boolean;
  message: string;
}

export class Inspector {
  constructor(private readonly d: NodeDeps, private readonly canGrowOnline = () => hasCapability(CAP_SYS_RESOURCE)) {}

  async stats(volumeId: string, volumePathIn: string): Promise<VolumeStats> {
    const path = canonicalPath(volumePathIn);
    let st;
    try {
      st = await lstat(path);
    } catch {
      throw notFound("volume_path does not exist", { volumeId, volumePath: path });
    }
    const mount = mountAt(readMountInfo(), path);
    if (st.isBlockDevice() || (st.isFile() && mount)) {
      const dev = await deviceOfPath(path, mount);
      if (!dev) return { abnormal: true, message: "volume_path is not bound to a block device" };
      return { blockSizeBytes: await blockDeviceSize(dev), abnormal: false, message: "block device present" };
    }
    if (!mount) return { abnormal: true, message: "volume_path is not mounted: the volume's mount is gone" };
    try {
      return { usage: await filesystemUsage(path), abnormal: false, message: "mounted" };
    } catch (err) {
      return { abnormal: true, message: `statfs failed: ${errorMessage(err)}` };
    }
  }

  /** Refreshes the device size and grows the filesystem; returns the new device size. */
  async expand(volumeId: string, volumePathIn: string, requiredBytes: bigint): Promise<bigint> {
    const path = canonicalPath(volumePathIn);
    try {
      await lstat(path);
    } catch {
      throw notFound("volume_path does not exist", { volumeId, volumePath: path });
    }
    const mount = mountAt(readMountInfo(), path);
    const found = await deviceOfPath(path, mount);
    if (!found) throw notFound("volume_path is not a staged or published volume", { volumeId, volumePath: path });
    const device = (await viewBase(found)) ?? found;
    const rec = await this.d.records.get(volumeId);
    const attacher = this.d.attachers.for(rec?.transport ?? "file");
    await attacher.refreshSize(device);
    for (const view of await viewsOf(device)) await attacher.refreshSize(view);
    const size = await blockDeviceSize(device);
    if (requiredBytes > size) {
      throw new CsiError(status.OUT_OF_RANGE, "device is smaller than required_bytes: expand the volume (ControllerExpandVolume) first", {
        volumeId,
        size: size.toString(),
      });
    }
    if (mount && mount.source === device) await this.growFs(volumeId, device, path, mount);
    return size;
  }

  private async growFs(volumeId: string, device: string, path: string, mount: MountEntry): Promise<void> {
    const ext = mount.fsType.startsWith("ext");
    if (!ext || this.canGrowOnline()) {
      await growFilesystem(device, path, mount.fsType, this.d.exec);
      this.d.log.info({ volumeId, device, fsType: mount.fsType }, "filesystem grown online");
      return;
    }
    // Online ext4 growth needs CAP_SYS_RESOURCE. Without it the filesystem can
    // still be grown offline, but only while nothing but the staging mount
    // uses it: unmount, check, grow, mount again with the staged options.
    const rec = await this.d.records.get(volumeId);
    const users = mountsOfDevice(readMountInfo(), device).filter((m) => m.mountPoint !== rec?.stagingPath);
    if (!rec || users.length > 0 || isReadOnlyMode(rec.mode)) {
      throw failedPrecondition(
        "ext4 cannot grow while published on this node (online growth needs CAP_SYS_RESOURCE): unpublish, then expand the staged volume",
        { volumeId, device },
      );
    }
    await this.d.mounter.unmount(rec.stagingPath);
    try {
      await this.d.exec("e2fsck", ["-f", "-p", device], { timeoutMs: 600_000 });
    } catch (err) {
      // Exit 1 = errors were corrected: the filesystem is consistent now.
      if (!(err instanceof ExecError && err.exitCode === 1)) throw err;
    }
    try {
      await growFilesystem(device, rec.stagingPath, mount.fsType, this.d.exec);
    } finally {
      await this.d.mounter.mount(device, rec.stagingPath, mount.fsType, rec.mountFlags);
    }
    this.d.log.info({ volumeId, device, fsType: mount.fsType }, "filesystem grown offline");
  }
}
