// Transport "file": a loop device over the volume's file (losetup). Lookups go
// through sysfs (no process spawn); changes go through losetup, and what they
// did is checked in sysfs rather than read from losetup's output.
import { readdirSync, readFileSync } from "node:fs";
import { status } from "@grpc/grpc-js";
import { ExecError, run, type Runner } from "@plasmacloud/common/exec";
import { canonicalPath } from "@plasmacloud/common/mountinfo";
import { CsiError } from "../errors";
import type { AttachTarget, Attacher } from "./types";

const SYS_BLOCK = "/sys/block";

function requireFile(t: AttachTarget): string {
  if (!t.filePath) throw new CsiError(status.INTERNAL, "attachment of transport file carries no path", { transport: t.transport });
  return t.filePath;
}

/** Backing file of a loop device ("/dev/loop3" or "loop3"), or undefined if unbound. */
export async function loopBackingFile(device: string): Promise<string | undefined> {
  const name = device.replace(/^\/dev\//, "");
  try {
    // The kernel appends " (deleted)" when the file was unlinked.
    return readFileSync(`${SYS_BLOCK}/${name}/loop/backing_file`, "utf8").trim().replace(/ \(deleted\)$/, "");
  } catch {
    return undefined;
  }
}

export async function blockDeviceSize(device: string): Promise<bigint> {
  const name = device.replace(/^\/dev\//, "");
  const sectors = readFileSync(`${SYS_BLOCK}/${name}/size`, "utf8").trim();
  return BigInt(sectors) * 512n;
}

/** Loop devices bound to `backing` (a canonical file or device path), sorted. */
export async function loopsBackedBy(backing: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of readdirSync(SYS_BLOCK)) {
    if (name.startsWith("loop") && (await loopBackingFile(name)) === backing) out.push(`/dev/${name}`);
  }
  return out.sort();
}

/** Binds a new (or, with --nooverlap, the existing) loop device to `backing`; returns it once sysfs confirms the binding. */
export async function bindLoop(backing: string, options: readonly string[], exec: Runner): Promise<string> {
  const { stdout } = await exec("losetup", ["--find", "--show", ...options, backing]);
  const device = stdout.trim();
  if ((await loopBackingFile(device)) !== canonicalPath(backing)) {
    throw new CsiError(status.INTERNAL, "losetup did not bind a loop device to the file", { file: backing, device });
  }
  return device;
}

/** Releases a loop device; one that is already unbound is success. */
export async function unbindLoop(device: string, exec: Runner): Promise<void> {
  if ((await loopBackingFile(device)) === undefined) return;
  try {
    await exec("losetup", ["--detach", device]);
  } catch (err) {
    // Raced with another detach: gone is what we wanted.
    if (err instanceof ExecError && (await loopBackingFile(device)) === undefined) return;
    throw err;
  }
}

export class LoopAttacher implements Attacher {
  readonly transport = "file";

  constructor(private readonly exec: Runner = run) {}

  attach(target: AttachTarget): Promise<string> {
    // --nooverlap reuses a device already bound to this file, under
    // losetup's own lock: concurrent or repeated attaches get one device.
    return bindLoop(requireFile(target), ["--nooverlap"], this.exec);
  }

  devicesFor(target: AttachTarget): Promise<string[]> {
    return loopsBackedBy(canonicalPath(requireFile(target)));
  }

  detach(device: string): Promise<void> {
    return unbindLoop(device, this.exec);
  }

  async refreshSize(device: string): Promise<void> {
    await this.exec("losetup", ["--set-capacity", device]);
  }
}
