// Read-only views of a block device. A read-only bind mount does not stop
// writes through a device node (the kernel skips the read-only-mount check
// for device files), so a read-only block publish gets its own read-only loop
// device stacked on the staged device: writes to it fail with EPERM.
import { run, type Runner } from "@plasmacloud/common/exec";
import { bindLoop, loopBackingFile, loopsBackedBy, unbindLoop } from "./loop";

export function createReadOnlyView(device: string, exec: Runner = run): Promise<string> {
  return bindLoop(device, ["--read-only"], exec);
}

/** The device a read-only view sits on, or undefined if `device` is not a view. */
export async function viewBase(device: string): Promise<string | undefined> {
  const back = await loopBackingFile(device);
  return back?.startsWith("/dev/") ? back : undefined;
}

export function viewsOf(device: string): Promise<string[]> {
  return loopsBackedBy(device);
}

/** Releases `device` if it is a view; any other device is left alone. */
export async function releaseView(device: string, exec: Runner = run): Promise<void> {
  if ((await viewBase(device)) !== undefined) await unbindLoop(device, exec);
}
