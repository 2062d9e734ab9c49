// Filesystem detection and creation. A device is formatted only when blkid's
// low-level probe finds nothing on it: a volume holding data is never formatted.
// Both ways of looking at a device are injected (the command runner and the
// byte reader), so unit tests touch no host device.
import { status } from "@grpc/grpc-js";
import { open } from "node:fs/promises";
import { ExecError, run, type Runner } from "@plasmacloud/common/exec";
import { CsiError } from "../errors";

export type FsType = "ext4" | "xfs";
export const SUPPORTED_FS: readonly FsType[] = ["ext4", "xfs"];

export interface Probe {
  /** Filesystem found (TYPE), if any. */
  fsType?: string;
  /** Partition table found (PTTYPE), if any. */
  ptType?: string;
  /** True only when blkid positively reported "nothing found". */
  empty: boolean;
}

export async function probe(device: string, exec: Runner = run): Promise<Probe> {
  try {
    const { stdout } = await exec("blkid", ["-p", "-o", "export", device]);
    const kv = new Map<string, string>();
    for (const line of stdout.split("\n")) {
      const eq = line.indexOf("=");
      if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1));
    }
    return { fsType: kv.get("TYPE"), ptType: kv.get("PTTYPE"), empty: false };
  } catch (err) {
    // blkid exits 2 when it found nothing to identify; any other failure
    // (ambivalent result, I/O error) must not be read as "empty".
    if (err instanceof ExecError && err.exitCode === 2) return { empty: true };
    throw err;
  }
}

export async function makeFilesystem(device: string, fsType: FsType, exec: Runner = run): Promise<void> {
  switch (fsType) {
    case "ext4":
      // Lazy init keeps mkfs fast on large sparse volumes; the kernel finishes it.
      await exec("mkfs.ext4", ["-q", "-E", "lazy_itable_init=1,lazy_journal_init=1", device], { timeoutMs: 600_000 });
      return;
    case "xfs":
      // No -f: mkfs.xfs refuses to overwrite an existing filesystem, a second guard.
      await exec("mkfs.xfs", ["-q", device], { timeoutMs: 600_000 });
      return;
  }
}

/** Reads up to `length` bytes at `offset` of a device (fewer at its end). */
export type DeviceReader = (device: string, offset: number, length: number) => Promise<Buffer>;

/** The production reader: opens the device read-only for this one read. */
export const readDevice: DeviceReader = async (device, offset, length) => {
  const fh = await open(device, "r");
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
};

/**
 * Recognises the filesystems we make from their superblock magic, without
 * spawning blkid: the common re-stage of a formatted volume stays cheap.
 * Only a positive answer is trusted; "unknown" still goes through blkid.
 */
export async function quickFsType(device: string, read: DeviceReader = readDevice): Promise<FsType | undefined> {
  const buf = await read(device, 0, 2048);
  if (buf.length >= 4 && buf.toString("latin1", 0, 4) === "XFSB") return "xfs";
  // ext2/3/4: s_magic 0xEF53 at byte 56 of the superblock at offset 1024;
  // the extents feature (INCOMPAT_EXTENTS) tells ext4 apart.
  if (buf.length >= 1024 + 100 && buf.readUInt16LE(1024 + 56) === 0xef53) {
    const incompat = buf.readUInt32LE(1024 + 96);
    return (incompat & 0x40) !== 0 ? "ext4" : undefined;
  }
  return undefined;
}

/** Formats only if empty; returns the filesystem type now on the device. */
export async function ensureFilesystem(
  device: string,
  want: FsType,
  exec: Runner = run,
  read: DeviceReader = readDevice,
): Promise<{ fsType: string; formatted: boolean }> {
  const quick = await quickFsType(device, read);
  if (quick) return { fsType: quick, formatted: false };
  const p = await probe(device, exec);
  if (p.empty) {
    await makeFilesystem(device, want, exec);
    return { fsType: want, formatted: true };
  }
  if (p.fsType) return { fsType: p.fsType, formatted: false };
  throw new CsiError(status.FAILED_PRECONDITION, "device holds data that is not a filesystem; refusing to format it", {
    device,
    ptType: p.ptType,
  });
}
