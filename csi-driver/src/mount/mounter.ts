// mount(8)/umount(8) with argument arrays; results are checked against the
// mount table rather than parsed from command output.
import { run, type Runner } from "@plasmacloud/common/exec";
import { canonicalPath, mountAt, readMountInfo, type MountEntry } from "@plasmacloud/common/mountinfo";

export class Mounter {
  constructor(private readonly exec: Runner = run) {}

  async mount(source: string, target: string, fsType: string, options: readonly string[] = []): Promise<void> {
    const args = ["-t", fsType];
    if (options.length) args.push("-o", options.join(","));
    await this.exec("mount", [...args, source, target]);
  }

  /** Bind mount; with readonly the bind is made read-only (mount(8) remounts it for us). */
  async bind(source: string, target: string, readonly: boolean): Promise<void> {
    await this.exec("mount", ["-o", readonly ? "bind,ro" : "bind", source, target]);
  }

  /**
   * Unmounts everything stacked at target; not mounted is success (looked up
   * in the mount table first, not read from umount's complaint). With
   * detachLoop, umount(8) also releases a loop device that was the mount's
   * source (saves a losetup spawn; the attacher's detach then finds it gone).
   */
  async unmount(target: string, opts: { detachLoop?: boolean } = {}): Promise<void> {
    const path = canonicalPath(target);
    // Each umount pops one mount stacked at the path.
    const stacked = readMountInfo().filter((e) => e.mountPoint === path).length;
    const args = opts.detachLoop ? ["--detach-loop", path] : [path];
    for (let i = 0; i < stacked; i++) await this.exec("umount", args);
  }

  mountAt(target: string): MountEntry | undefined {
    return mountAt(readMountInfo(), canonicalPath(target));
  }
}
