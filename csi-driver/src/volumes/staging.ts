// NodeStageVolume / NodeUnstageVolume: attach the volume (loop device), make
// sure it holds a filesystem (format only if empty), mount it at the staging
// path; and undo all of it, finding the pieces again from the mount table,
// the loop devices and the staging record.
import { existsSync, mkdirSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { errorMessage } from "@plasmacloud/common/errors";
import { canonicalPath, isReadOnly, mountAt, readMountInfo, type MountEntry } from "@plasmacloud/common/mountinfo";
import { loopBackingFile, releaseView, viewsOf, type AttachTarget } from "../attach";
import { alreadyExists, CsiError, failedPrecondition } from "../errors";
import { BackendError } from "../lightningstor/client";
import { ensureFilesystem, probe } from "../mount";
import { isReadOnlyMode, type Capability } from "./capability";
import type { NodeDeps } from "./deps";
import { BLOCK_STAGING_FILE, deviceOfPath } from "./devices";
import type { StagingRecord } from "./records";

export class Stager {
  constructor(private readonly d: NodeDeps) {}

  async stage(volumeId: string, stagingPathIn: string, cap: Capability): Promise<void> {
    const stagingPath = canonicalPath(stagingPathIn);
    let rec = await this.d.records.get(volumeId);
    if (rec && rec.stagingPath !== stagingPath && this.isStaged(rec.stagingPath, rec.access)) {
      throw failedPrecondition("volume is already staged at another staging_target_path", { volumeId, stagedAt: rec.stagingPath });
    }
    const mounts = readMountInfo();
    const fsMount = mountAt(mounts, stagingPath);
    const blockMount = mountAt(mounts, join(stagingPath, BLOCK_STAGING_FILE));
    if (fsMount || blockMount) {
      // Idempotent repeat, or an incompatible request for a staged path.
      if (!rec || rec.stagingPath !== stagingPath) rec = await this.adoptStaged(volumeId, stagingPath, cap, fsMount, blockMount);
      const same =
        rec.access === cap.access &&
        (cap.access === "block" ||
          (fsMount !== undefined && fsMount.fsType === cap.fsType && JSON.stringify(rec.mountFlags) === JSON.stringify(cap.mountFlags) &&
            isReadOnly(fsMount) === isReadOnlyMode(cap.mode)));
      if (!same) throw alreadyExists("volume is staged at staging_target_path with a different capability", { volumeId, stagingPath });
      return;
    }

    const att = await this.d.backend.attachVolume(volumeId, this.d.nodeId);
    const target: AttachTarget = { transport: att.transport, filePath: att.file?.path };
    let attacher;
    try {
      attacher = this.d.attachers.for(att.transport);
    } catch (err) {
      await this.d.backend.detachVolume(volumeId, this.d.nodeId).catch(() => undefined);
      throw err;
    }
    const record: StagingRecord = {
      volumeId,
      stagingPath,
      access: cap.access,
      fsType: cap.access === "mount" ? cap.fsType : "",
      mountFlags: cap.mountFlags,
      mode: cap.mode,
      transport: att.transport,
      filePath: att.file?.path ?? "",
      createdStagingDir: rec?.stagingPath === stagingPath ? rec.createdStagingDir : !existsSync(stagingPath),
    };
    await this.d.records.put(record);
    try {
      const device = await attacher.attach(target);
      mkdirSync(stagingPath, { recursive: true, mode: 0o750 });
      const ro = isReadOnlyMode(cap.mode);
      if (cap.access === "block") {
        const node = join(stagingPath, BLOCK_STAGING_FILE);
        writeFileSync(node, "", { flag: "a", mode: 0o600 });
        await this.d.mounter.bind(device, node, ro);
      } else {
        const fsType = await this.filesystemFor(device, cap, ro);
        await this.d.mounter.mount(device, stagingPath, fsType, ro ? [...cap.mountFlags, "ro"] : cap.mountFlags);
      }
      this.d.log.info({ volumeId, device, stagingPath, access: cap.access }, "staged");
    } catch (err) {
      await this.unstage(volumeId, stagingPath).catch((e: unknown) =>
        this.d.log.error({ volumeId, error: errorMessage(e) }, "rollback of failed stage failed"),
      );
      throw err;
    }
  }

  /**
   * The staging path is mounted but this node has no record of it (state dir
   * lost): adopt it if its loop device sits on this volume's file, as
   * LightningStor reports it; anything else is another volume's mount.
   */
  private async adoptStaged(
    volumeId: string,
    stagingPath: string,
    cap: Capability,
    fsMount: MountEntry | undefined,
    blockMount: MountEntry | undefined,
  ): Promise<StagingRecord> {
    const node = blockMount ? join(stagingPath, BLOCK_STAGING_FILE) : stagingPath;
    const dev = await deviceOfPath(node, blockMount ?? fsMount);
    const backing = dev ? await loopBackingFile(dev) : undefined;
    const att = await this.d.backend.attachVolume(volumeId, this.d.nodeId);
    if (!backing || backing !== att.file?.path) {
      // Undo the attach this check made, unless the volume is in use here.
      const inUse = await this.d.attachers.for(att.transport).devicesFor({ transport: att.transport, filePath: att.file?.path });
      if (inUse.length === 0) await this.d.backend.detachVolume(volumeId, this.d.nodeId).catch(() => undefined);
      throw alreadyExists("staging_target_path already holds a mount of another volume", { volumeId, stagingPath });
    }
    const rec: StagingRecord = {
      volumeId,
      stagingPath,
      access: blockMount ? "block" : "mount",
      fsType: fsMount?.fsType ?? "",
      mountFlags: cap.mountFlags,
      mode: cap.mode,
      transport: att.transport,
      filePath: backing,
      createdStagingDir: false, // unknown: leave the directory in place
    };
    await this.d.records.put(rec);
    this.d.log.info({ volumeId, stagingPath, device: dev }, "adopted staged volume found in the mount table");
    return rec;
  }

  private async filesystemFor(device: string, cap: Capability, readOnly: boolean): Promise<string> {
    if (readOnly) {
      // Never write to a volume staged read-only, not even to format it.
      const p = await probe(device, this.d.exec);
      if (!p.fsType) throw failedPrecondition("read-only volume holds no filesystem to mount", { device });
      if (p.fsType !== cap.fsType) throw failedPrecondition(`volume holds ${p.fsType}, capability asks ${cap.fsType}`, { device });
      return p.fsType;
    }
    const { fsType, formatted } = await ensureFilesystem(device, cap.fsType, this.d.exec, this.d.readDevice);
    if (fsType !== cap.fsType) {
      throw failedPrecondition(`volume holds ${fsType}, capability asks ${cap.fsType}; not reformatting`, { device });
    }
    if (formatted) this.d.log.info({ device, fsType }, "formatted empty volume");
    return fsType;
  }

  private isStaged(stagingPath: string, access: "mount" | "block"): boolean {
    const p = access === "block" ? join(stagingPath, BLOCK_STAGING_FILE) : stagingPath;
    return this.d.mounter.mountAt(p) !== undefined;
  }

  /** Undoes stage; anything already gone is skipped, so repeats succeed. */
  async unstage(volumeId: string, stagingPathIn: string): Promise<void> {
    const stagingPath = canonicalPath(stagingPathIn);
    const rec = await this.d.records.get(volumeId);
    const devices = new Set<string>();
    const blockNode = join(stagingPath, BLOCK_STAGING_FILE);
    const mounts = readMountInfo();
    for (const p of [blockNode, stagingPath]) {
      const m = mountAt(mounts, p);
      if (!m) continue;
      const dev = await deviceOfPath(p, m);
      if (dev?.startsWith("/dev/loop")) devices.add(dev);
      // Transport "file" staged a filesystem straight from the loop device.
      await this.d.mounter.unmount(p, { detachLoop: p === stagingPath && (rec?.transport ?? "file") === "file" });
    }
    if (rec?.access === "block" || existsSync(blockNode)) rmSync(blockNode, { force: true });

    const recHere = rec && rec.stagingPath === stagingPath ? rec : undefined;
    // The mount table usually names the device; scan the loop devices only
    // when it did not (crash mid-stage, block staging lost its node).
    if (recHere?.filePath && devices.size === 0) {
      for (const dev of await this.d.attachers.for(recHere.transport).devicesFor({ transport: recHere.transport, filePath: recHere.filePath })) {
        devices.add(dev);
      }
    }
    // Read-only views (block access only) left by publishes never unpublished.
    if (!recHere || recHere.access === "block") {
      for (const dev of devices) for (const view of await viewsOf(dev)) await releaseView(view, this.d.exec);
    }
    const attacher = this.d.attachers.for(recHere?.transport ?? "file");
    for (const dev of devices) await attacher.detach(dev);
    if (recHere || devices.size > 0) {
      try {
        await this.d.backend.detachVolume(volumeId, this.d.nodeId);
      } catch (err) {
        // The volume may have been deleted meanwhile: nothing left to detach.
        if (!(err instanceof BackendError && err.code === status.NOT_FOUND)) throw err;
      }
    }
    if (recHere?.createdStagingDir) {
      try {
        rmdirSync(stagingPath);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== "ENOENT") throw new CsiError(status.INTERNAL, `cannot remove staging directory: ${code}`, { stagingPath });
      }
    }
    if (recHere) await this.d.records.delete(volumeId);
    if (recHere || devices.size) this.d.log.info({ volumeId, stagingPath, devices: [...devices].join(",") }, "unstaged");
  }
}
