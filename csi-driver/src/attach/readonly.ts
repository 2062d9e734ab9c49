// Read-only views of a block device. A read-only bind mount does not stop
// writes through a device node (the kernel skips the read-only-mount check
// for device files), so a read-only block publish gets its own read-only loop
// device stacked on the staged device: writes to it fail with EPERM.
import { readdirSync } from "node:fs";
import { run, type Runner } from "../exec";
import { loopBackingFile } from "./loop";

export async function createReadOnlyView(device: string, exec: Runner = run): Promise<string> {
  const { stdout } = await exec("losetup", ["--read-only", "--find", "--show", device]);
  return stdout.trim();
}

/** The device a read-only view sits on, or undefined if `device` is not a view. */
export async function viewBase(device: string): Promise<string | undefined> {
  const back = await loopBackingFile(device);
  return back?.startsWith("/dev/") ? back : undefined;
}

export async function viewsOf(device: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of readdirSync("/sys/block")) {
    if (name.startsWith("loop") && (await loopBackingFile(name)) === device) out.push(`/dev/${name}`);
  }
  return out.sort();
}

export async function releaseView(device: string, exec: Runner = run): Promise<void> {
  if ((await viewBase(device)) === undefined) return;
  await exec("losetup", ["--detach", device]);
}
