// NodePublishVolume / NodeUnpublishVolume: bind the staged volume (mounted
// filesystem, or the staged device node) onto a target path, read-only when
// asked; and take it away again. Re-publish rules follow the CSI spec table:
// same target + same arguments is OK, same target + different arguments is
// ALREADY_EXISTS, a second target under SINGLE_NODE_SINGLE_WRITER is
// FAILED_PRECONDITION.
import { lstatSync, mkdirSync, rmdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { canonicalPath, isReadOnly, mountAt, readMountInfo } from "@plasmacloud/common/mountinfo";
import { createReadOnlyView, releaseView, viewBase } from "../attach";
import { alreadyExists, CsiError, failedPrecondition } from "../errors";
import { isReadOnlyMode, Mode, type Capability } from "./capability";
import type { NodeDeps } from "./deps";
import { BLOCK_STAGING_FILE, deviceOfPath, mountsOfDevice } from "./devices";

export class Publisher {
  constructor(private readonly d: NodeDeps) {}

  async publish(volumeId: string, stagingPathIn: string, targetPathIn: string, cap: Capability, readonly: boolean): Promise<void> {
    const stagingPath = canonicalPath(stagingPathIn);
    const target = canonicalPath(targetPathIn);
    const mounts = readMountInfo();
    const fsStaged = mountAt(mounts, stagingPath);
    const blockStaged = mountAt(mounts, join(stagingPath, BLOCK_STAGING_FILE));
    if (!fsStaged && !blockStaged) {
      await this.d.backend.getVolume(volumeId); // NOT_FOUND for an unknown volume
      throw failedPrecondition("volume is not staged at staging_target_path: call NodeStageVolume first", { volumeId, stagingPath });
    }
    if ((cap.access === "block") !== (blockStaged !== undefined)) {
      throw failedPrecondition(`volume is staged for ${blockStaged ? "block" : "mount"} access, publish asks ${cap.access}`, { volumeId });
    }
    const source = cap.access === "block" ? join(stagingPath, BLOCK_STAGING_FILE) : stagingPath;
    const device = await deviceOfPath(source, blockStaged ?? fsStaged);
    if (!device) throw new CsiError(status.INTERNAL, "cannot tell which device is staged", { volumeId, stagingPath });
    const ro = readonly || isReadOnlyMode(cap.mode);

    const existing = mountAt(mounts, target);
    if (existing) {
      const dev = await deviceOfPath(target, existing);
      const sameDevice = dev !== undefined && (dev === device || (await viewBase(dev)) === device);
      // The mount table tells volume, access type (device node or directory) and ro.
      const targetIsBlock = lstatSync(target).isBlockDevice();
      const same = sameDevice && isReadOnly(existing) === ro && targetIsBlock === (cap.access === "block");
      if (!same) throw alreadyExists("target_path is already published with different arguments", { volumeId, target });
      return;
    }
    if (cap.mode === Mode.SINGLE_NODE_SINGLE_WRITER) {
      const others = mountsOfDevice(mounts, device).filter((m) => m.mountPoint !== stagingPath && m.mountPoint !== source);
      if (others.length > 0) {
        throw failedPrecondition("SINGLE_NODE_SINGLE_WRITER volume is already published at another target", { volumeId });
      }
    }

    let createdTarget = false;
    try {
      statSync(target);
    } catch {
      createdTarget = true;
    }
    if (cap.access === "block") writeFileSync(target, "", { flag: "a", mode: 0o600 });
    else mkdirSync(target, { recursive: true, mode: 0o750 });
    let view: string | undefined;
    try {
      // A read-only bind does not stop writes through a device node: block
      // targets published read-only get a read-only loop view instead.
      if (cap.access === "block" && ro) view = await createReadOnlyView(device, this.d.exec);
      await this.d.mounter.bind(view ?? source, target, ro);
    } catch (err) {
      if (view) await releaseView(view, this.d.exec).catch(() => undefined);
      if (createdTarget) {
        try {
          if (cap.access === "block") rmSync(target, { force: true });
          else rmdirSync(target);
        } catch {
          // best effort: the error being reported is the bind failure
        }
      }
      throw err;
    }
    this.d.log.info({ volumeId, target, readonly: ro, access: cap.access }, "published");
  }

  async unpublish(volumeId: string, targetPathIn: string): Promise<void> {
    const target = canonicalPath(targetPathIn);
    const published = mountAt(readMountInfo(), target);
    const dev = published ? await deviceOfPath(target, published) : undefined;
    await this.d.mounter.unmount(target);
    if (dev) await releaseView(dev, this.d.exec);
    // The spec makes the SP delete what sits at target_path; rmdir (not a
    // recursive rm) so data written into an unmounted directory is never lost.
    let st;
    try {
      st = statSync(target);
    } catch {
      st = undefined;
    }
    if (st?.isDirectory()) {
      try {
        rmdirSync(target);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== "ENOENT") throw new CsiError(status.INTERNAL, `cannot remove target_path: ${code}`, { volumeId, target });
      }
    } else if (st) {
      rmSync(target, { force: true });
    }
    if (st) this.d.log.info({ volumeId, target }, "unpublished");
  }
}
