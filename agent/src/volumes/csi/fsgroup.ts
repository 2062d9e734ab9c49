// fsGroup on CSI volumes, as the kubelet's csiMountMgr.SetUpAt: a driver with
// the VOLUME_MOUNT_GROUP node capability gets the group in NodeStage/NodePublish
// (volume_capability.mount.volume_mount_group) and nothing else is done;
// otherwise, when the driver's fsGroupPolicy allows it and the volume is not
// read-only, the agent changes ownership after NodePublish (SetVolumeOwnership,
// with the pod's fsGroupChangePolicy).
//
// Once per publish: a vol_fsgroup.json beside vol_data.json records that the
// group was handled, so later syncs (and an agent restart) do not walk again,
// while a publish whose walk never finished is walked at the next sync.
import type { CSIVolumeSource, Pod, Volume } from "@plasmacloud/proto/k8shost";
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { errorMessage } from "@plasmacloud/common/errors";
import type { Logger } from "@plasmacloud/common/log";
import type { PodEvents } from "../../events/types";
import { KeyedBackoff } from "../../retry/backoff";
import { setVolumeOwnership, type FSGroupChangePolicy } from "../ownership";
import { VolumeError } from "../types";

/** The CSIDriver object's spec.fsGroupPolicy. */
export const FS_GROUP_POLICIES = ["ReadWriteOnceWithFSType", "File", "None"] as const;
export type FSGroupPolicy = (typeof FS_GROUP_POLICIES)[number];
/** What the kubelet assumes for a driver without a CSIDriver object (or without the field). */
export const DEFAULT_FS_GROUP_POLICY: FSGroupPolicy = "ReadWriteOnceWithFSType";

/** The kubelet's operation backoff for a failed mount: 500 ms doubling to 2m2s. */
const BACKOFF_INITIAL_MS = 500;
const BACKOFF_MAX_MS = 122_000;
const MARKER = "vol_fsgroup.json";

/** The pod's fsGroup as a number, or undefined. */
export function podFSGroup(pod: Pod): number | undefined {
  const g = pod.spec?.securityContext?.fsGroup;
  return g === undefined ? undefined : Number(g);
}

/** The kubelet's supportsFSGroup: may the agent change this volume's ownership itself? */
export function agentAppliesFSGroup(fsGroup: number | undefined, s: CSIVolumeSource, policy: FSGroupPolicy): boolean {
  if (fsGroup === undefined || policy === "None" || s.readOnly) return false;
  if (policy === "File") return true;
  // ReadWriteOnceWithFSType: an inline CSI volume is always published ReadWriteOnce; fsType decides.
  return s.fsType !== "";
}

/** volume_mount_group for NodeStage/NodePublish: the fsGroup when the driver applies it (VOLUME_MOUNT_GROUP), else "". */
export function volumeMountGroup(fsGroup: number | undefined, driverMountGroup: boolean): string {
  return driverMountGroup && fsGroup !== undefined ? String(fsGroup) : "";
}

interface Marker {
  fsGroup: number;
  by: "driver" | "agent";
}

export class CsiFSGroup {
  private readonly backoff = new KeyedBackoff(BACKOFF_INITIAL_MS, BACKOFF_MAX_MS);
  private readonly lastError = new Map<string, string>();

  constructor(
    private readonly policies: Record<string, FSGroupPolicy>,
    private readonly events: PodEvents,
    private readonly log: Logger,
  ) {}

  policyOf(driver: string): FSGroupPolicy {
    return this.policies[driver] ?? DEFAULT_FS_GROUP_POLICY;
  }

  /** Before NodePublish with volume_mount_group: the driver applies the group, the agent never walks. */
  async delegated(volDir: string, fsGroup: number): Promise<void> {
    await writeMarker(volDir, { fsGroup, by: "driver" });
  }

  /**
   * After NodePublish (or on adopting a published target): applies fsGroup
   * unless this publish already had it. A walk that cannot finish is a
   * FailedMount retried with the kubelet's backoff; files that refuse chown or
   * chmod are reported (log and a Warning event) and the pod goes on, as the
   * kubelet's walk logs and carries on.
   */
  async ensure(pod: Pod, v: Volume, volDir: string, target: string): Promise<void> {
    const s = v.csi!;
    const fsGroup = podFSGroup(pod);
    if (fsGroup === undefined || !agentAppliesFSGroup(fsGroup, s, this.policyOf(s.driver))) return;
    if ((await readMarker(volDir))?.fsGroup === fsGroup) return;
    const m = pod.metadata!;
    const key = `${m.uid}/${v.name}`;
    const wait = this.backoff.remaining(key);
    if (wait > 0) throw this.failed(v, this.lastError.get(key) ?? "", wait);
    const policy = pod.spec?.securityContext?.fsGroupChangePolicy as FSGroupChangePolicy | undefined;
    const who = { pod: `${m.namespace}/${m.name}`, driver: s.driver, volume: v.name, fsGroup };
    const onSlow = (visited: number, first: boolean): void => {
      const msg = `Setting volume ownership for volume "${v.name}", processed ${visited} files`;
      if (first) {
        this.log.warn({ ...who, target }, "setting volume ownership with fsGroup: a volume with many files takes long (fsGroupChangePolicy: OnRootMismatch avoids it)");
        return;
      }
      this.log.warn({ ...who, visited }, msg);
      this.events.emit(pod, "Warning", "VolumePermissionChangeInProgress", msg);
    };
    let r;
    try {
      r = await setVolumeOwnership(target, fsGroup, { readOnly: false, policy, onSlow });
    } catch (err) {
      const msg = `applyFSGroup failed for vol ${s.volumeHandle}: ${errorMessage(err)}`;
      this.lastError.set(key, msg);
      const delay = this.backoff.next(key);
      this.log.warn({ ...who, err: errorMessage(err), retryInMs: delay }, "fsGroup ownership change failed; the volume is published, the pod waits");
      throw this.failed(v, msg, delay);
    }
    this.backoff.reset(key);
    this.lastError.delete(key);
    if (r.failed > 0) {
      const detail = `${r.failed} of ${r.visited} files and directories (${r.failures.join(", ")}${r.failed > r.failures.length ? ", ..." : ""})`;
      this.log.warn({ ...who, failed: r.failed, visited: r.visited, failures: r.failures }, "fsGroup could not be applied to some files of the volume; carrying on as the kubelet does");
      this.events.emit(pod, "Warning", "VolumePermissionChangeFailed", `fsGroup ${fsGroup} could not be applied to ${detail} of volume "${v.name}"; the pod may not be able to use them`);
    }
    await writeMarker(volDir, { fsGroup, by: "agent" });
    this.log.info({ ...who, policy: policy ?? "Always", skipped: r.skipped, visited: r.visited }, r.skipped ? "fsGroup already on the volume's root (OnRootMismatch): ownership left as it is" : "fsGroup applied to the volume");
  }

  /** A pod's volumes are gone: its backoff entries with them. */
  forget(uid: string): void {
    this.backoff.forgetPrefix(`${uid}/`);
    for (const k of this.lastError.keys()) if (k.startsWith(`${uid}/`)) this.lastError.delete(k);
  }

  private failed(v: Volume, msg: string, retryInMs: number): VolumeError {
    return new VolumeError("Internal", "FailedMount", `MountVolume.SetUp failed for volume "${v.name}": ${msg}`, retryInMs, { driver: v.csi!.driver, volume: v.name });
  }
}

async function readMarker(volDir: string): Promise<Marker | undefined> {
  try {
    const m = JSON.parse(await readFile(join(volDir, MARKER), "utf8")) as Partial<Marker>;
    return typeof m.fsGroup === "number" ? (m as Marker) : undefined;
  } catch {
    return undefined;
  }
}

async function writeMarker(volDir: string, m: Marker): Promise<void> {
  const file = join(volDir, MARKER);
  await writeFile(`${file}.tmp`, JSON.stringify(m), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}
