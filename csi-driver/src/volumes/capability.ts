// CSI VolumeCapability → what this driver will do with it. Malformed or
// unsupported capabilities are INVALID_ARGUMENT naming the field.
import { VolumeCapability_AccessMode_Mode as Mode, type VolumeCapability } from "@plasmacloud/proto/csi";
import { errorMessage } from "@plasmacloud/common/errors";
import { invalidArgument } from "../errors";
import { SUPPORTED_FS, type FsType } from "../mount";

export { Mode };

export interface Capability {
  access: "mount" | "block";
  fsType: FsType;
  mountFlags: string[];
  mode: Mode;
}

export const DEFAULT_FS: FsType = "ext4";

// A volume is a loop device on one node: multi-node modes cannot be honoured.
const SUPPORTED_MODES = new Set<Mode>([
  Mode.SINGLE_NODE_WRITER,
  Mode.SINGLE_NODE_READER_ONLY,
  Mode.SINGLE_NODE_SINGLE_WRITER,
  Mode.SINGLE_NODE_MULTI_WRITER,
]);

// Options that would turn our mount into a different operation.
const FORBIDDEN_FLAGS = new Set(["bind", "rbind", "remount", "move", "make-shared", "make-private"]);

export function isReadOnlyMode(mode: Mode): boolean {
  return mode === Mode.SINGLE_NODE_READER_ONLY || mode === Mode.MULTI_NODE_READER_ONLY;
}

/** Why a capability cannot be served, or undefined when it can. */
export function unsupportedReason(cap: VolumeCapability): string | undefined {
  try {
    parseCapability(cap, "volume_capability");
    return undefined;
  } catch (err) {
    return errorMessage(err); // shown to the CO as the reason, never decided on
  }
}

export function parseCapability(cap: VolumeCapability | undefined, field: string): Capability {
  if (!cap) throw invalidArgument(field);
  const mode = cap.accessMode?.mode ?? Mode.UNKNOWN;
  if (mode === Mode.UNKNOWN) throw invalidArgument(`${field}.access_mode`);
  if (!SUPPORTED_MODES.has(mode)) throw invalidArgument(`${field}.access_mode`, `${Mode[mode] ?? mode} is not supported (single-node volumes)`);
  if (cap.block && cap.mount) throw invalidArgument(`${field}.access_type`, "must be block or mount, not both");
  if (cap.block) return { access: "block", fsType: DEFAULT_FS, mountFlags: [], mode };
  if (!cap.mount) throw invalidArgument(`${field}.access_type`, "is required (block or mount)");
  const fs = cap.mount.fsType || DEFAULT_FS;
  if (!(SUPPORTED_FS as readonly string[]).includes(fs)) {
    throw invalidArgument(`${field}.mount.fs_type`, `${JSON.stringify(fs)} is not supported (ext4, xfs)`);
  }
  for (const flag of cap.mount.mountFlags) {
    if (FORBIDDEN_FLAGS.has(flag.trim())) throw invalidArgument(`${field}.mount.mount_flags`, `may not contain ${JSON.stringify(flag)}`);
  }
  if (cap.mount.volumeMountGroup) throw invalidArgument(`${field}.mount.volume_mount_group`, "is not supported");
  return { access: "mount", fsType: fs as FsType, mountFlags: [...cap.mount.mountFlags], mode };
}
