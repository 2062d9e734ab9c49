// Online filesystem growth after the device grew.
import { status } from "@grpc/grpc-js";
import { run, type Runner } from "@plasmacloud/common/exec";
import { CsiError } from "../errors";

export async function growFilesystem(device: string, mountPath: string, fsType: string, exec: Runner = run): Promise<void> {
  switch (fsType) {
    case "ext2":
    case "ext3":
    case "ext4":
      await exec("resize2fs", [device], { timeoutMs: 600_000 });
      return;
    case "xfs":
      // xfs grows only while mounted, addressed by mount point.
      await exec("xfs_growfs", [mountPath], { timeoutMs: 600_000 });
      return;
    default:
      throw new CsiError(status.FAILED_PRECONDITION, `cannot grow a ${fsType} filesystem`, { device, fsType });
  }
}
