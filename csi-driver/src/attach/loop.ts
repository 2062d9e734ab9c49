// Transport "file": a loop device over the volume's file (losetup). Lookups go
// through sysfs (no process spawn); changes go through losetup.
import { readdirSync, readFileSync, realpathSync } from "node:fs";
import { status } from "@grpc/grpc-js";
import { CsiError } from "../errors";
import { ExecError, run, type Runner } from "../exec";
import type { AttachTarget, Attacher } from "./types";

const SYS_BLOCK = "/sys/block";

function requireFile(t: AttachTarget): string {
  if (!t.filePath) throw new CsiError(status.INTERNAL, "attachment of transport file carries no path", { transport: t.transport });
  return t.filePath;
}

/** Backing file of a loop device ("/dev/loop3"), or undefined if unbound. */
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

export class LoopAttacher implements Attacher {
  readonly transport = "file";

  constructor(private readonly exec: Runner = run) {}

  async attach(target: AttachTarget): Promise<string> {
    const file = requireFile(target);
    // --nooverlap reuses a device already bound to this file, under
    // losetup's own lock: concurrent or repeated attaches get one device.
    const { stdout } = await this.exec("losetup", ["--find", "--show", "--nooverlap", file]);
    const device = stdout.trim();
    if (!device.startsWith("/dev/loop")) throw new CsiError(status.INTERNAL, "losetup returned no device", { file });
    return device;
  }

  async devicesFor(target: AttachTarget): Promise<string[]> {
    let file: string;
    try {
      file = realpathSync(requireFile(target));
    } catch {
      file = requireFile(target);
    }
    const out: string[] = [];
    for (const name of readdirSync(SYS_BLOCK)) {
      if (!name.startsWith("loop")) continue;
      if ((await loopBackingFile(name)) === file) out.push(`/dev/${name}`);
    }
    return out.sort();
  }

  async detach(device: string): Promise<void> {
    if ((await loopBackingFile(device)) === undefined) return;
    try {
      await this.exec("losetup", ["--detach", device]);
    } catch (err) {
      // Raced with another detach: gone is what we wanted.
      if (err instanceof ExecError && (await loopBackingFile(device)) === undefined) return;
      throw err;
    }
  }

  async refreshSize(device: string): Promise<void> {
    await this.exec("losetup", ["--set-capacity", device]);
  }
}
