// How an attached LightningStor volume becomes a local block device. One
// Attacher per transport; NBD and iSCSI add their own without touching the
// node logic.
export interface AttachTarget {
  /** "file" today; "nbd"/"iscsi" later. */
  transport: string;
  /** For transport "file": the local file holding the volume's bytes. */
  filePath?: string;
}

export interface Attacher {
  readonly transport: string;
  /** Returns the block device path; idempotent (reuses an existing device for the same target). */
  attach(target: AttachTarget): Promise<string>;
  /** Devices currently bound to the target: how state is found again after a restart. */
  devicesFor(target: AttachTarget): Promise<string[]>;
  /** Releases the device; a device that is already gone is success. */
  detach(device: string): Promise<void>;
  /** Re-reads the target's size after the volume grew. */
  refreshSize(device: string): Promise<void>;
}
