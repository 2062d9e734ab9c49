// CSI volumes of pods: NodeStage once per volume per node, NodePublish per pod,
// NodeUnpublish at teardown and NodeUnstage after the last pod on this node.
// Every decision comes from disk (vol_data.json next to each publish target)
// and the mount table, so it holds across an agent restart; a per-volume lock
// orders this agent's own calls.
import { TenantKeys } from "@plasmacloud/proto/annotations";
import { VolumeCapability_AccessMode_Mode as Mode, NodePublishVolumeRequest, NodeStageVolumeRequest, NodeUnpublishVolumeRequest, NodeUnstageVolumeRequest } from "@plasmacloud/proto/csi";
import type { Pod, Volume } from "@plasmacloud/proto/k8shost";
import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { CodedError, errorCode, errorMessage } from "@plasmacloud/common/errors";
import type { Logger } from "@plasmacloud/common/log";
import { mountAt, readMountInfo } from "@plasmacloud/common/mountinfo";
import { Layout, PLUGIN_CSI } from "../layout";
import { KeyedLock } from "../lock";
import { VolumeError } from "../types";
import { podFSGroup, volumeMountGroup, type CsiFSGroup } from "./fsgroup";
import type { PluginRegistry, RegisteredDriver } from "./registry";

/** What the agent records next to a publish target (the kubelet's vol_data.json). */
export interface VolData {
  driverName: string;
  volumeHandle: string;
  specVolID: string;
  podUID: string;
  readOnly: boolean;
  stagingPath: string;
}

const RETRY_MS = 5_000;
// Keys only the agent may set: a pod spec cannot claim another tenant or pod.
const RESERVED = /^(csi\.storage\.k8s\.io\/|plasmacloud\.io\/)/;

export class CsiVolumes {
  private readonly lock = new KeyedLock();

  constructor(private readonly layout: Layout, private readonly registry: PluginRegistry, private readonly fsGroup: CsiFSGroup, private readonly log: Logger) {}

  unsupported(v: Volume): string | undefined {
    const s = v.csi!;
    if (!s.driver) return "csi.driver: must not be empty";
    if (!s.volumeHandle) return "csi.volumeHandle: must be set (inline ephemeral CSI volumes are not supported)";
    if (s.nodePublishSecretRef?.name) return "csi.nodePublishSecretRef is not supported by this node yet";
    return undefined;
  }

  private driver(name: string, volume: string): RegisteredDriver {
    const d = this.registry.get(name);
    if (!d) throw new VolumeError("Unavailable", "FailedMount", `MountVolume.SetUp failed for volume "${volume}": driver name ${name} not found in the list of registered CSI drivers`, RETRY_MS, { driver: name });
    return d;
  }

  /** Stages (if this node has not) and publishes for the pod, then applies fsGroup; returns the target path. */
  async setUp(pod: Pod, v: Volume): Promise<string> {
    const m = pod.metadata!;
    const s = v.csi!;
    const staging = this.layout.csiStaging(s.driver, s.volumeHandle);
    const target = this.layout.csiTarget(m.uid, v.name);
    const volDir = dirname(target);
    // Recorded before any call, so a crash at any later point still finds the volume on disk.
    await writeVolData(volDir, { driverName: s.driver, volumeHandle: s.volumeHandle, specVolID: v.name, podUID: m.uid, readOnly: s.readOnly, stagingPath: staging });
    // Published already (e.g. before an agent restart): adopt it, even before the driver re-registers.
    if (mountAt(readMountInfo(), target)) {
      await this.fsGroup.ensure(pod, v, volDir, target);
      return target;
    }
    const d = this.driver(s.driver, v.name);
    const mode = d.singleNodeMultiWriter ? Mode.SINGLE_NODE_MULTI_WRITER : Mode.SINGLE_NODE_WRITER;
    // A driver with VOLUME_MOUNT_GROUP applies fsGroup itself (the CSI spec's way); recorded before the call.
    const mountGroup = volumeMountGroup(podFSGroup(pod), d.volumeMountGroup);
    if (mountGroup) await this.fsGroup.delegated(volDir, Number(mountGroup));
    const capability = { mount: { fsType: s.fsType, mountFlags: [], volumeMountGroup: mountGroup }, accessMode: { mode } };
    const attrs = Object.fromEntries(Object.entries(s.volumeAttributes).filter(([k]) => !RESERVED.test(k)));
    const tenant = { [TenantKeys.orgId]: m.orgId, [TenantKeys.projectId]: m.projectId };
    const podInfo = { "csi.storage.k8s.io/pod.name": m.name, "csi.storage.k8s.io/pod.namespace": m.namespace, "csi.storage.k8s.io/pod.uid": m.uid, "csi.storage.k8s.io/ephemeral": "false" };
    await this.lock.with(`${s.driver}/${s.volumeHandle}`, async () => {
      const mounts = readMountInfo();
      try {
        if (d.stageUnstage && !mountAt(mounts, staging)) {
          await mkdir(dirname(staging), { recursive: true, mode: 0o750 });
          await d.client.stage(NodeStageVolumeRequest.fromPartial({ volumeId: s.volumeHandle, stagingTargetPath: staging, volumeCapability: capability, volumeContext: { ...attrs, ...tenant } }));
          this.log.info({ driver: s.driver, volume: v.name, pod: `${m.namespace}/${m.name}` }, "CSI volume staged");
        }
        if (!mountAt(mounts, target)) {
          await d.client.publish(
            NodePublishVolumeRequest.fromPartial({
              volumeId: s.volumeHandle,
              stagingTargetPath: d.stageUnstage ? staging : "",
              targetPath: target,
              volumeCapability: capability,
              readonly: s.readOnly,
              volumeContext: { ...attrs, ...podInfo, ...tenant },
            }),
          );
          this.log.info({ driver: s.driver, volume: v.name, pod: `${m.namespace}/${m.name}`, readOnly: s.readOnly }, "CSI volume published");
        }
      } catch (err) {
        throw new VolumeError(errorCode(err), "FailedMount", `MountVolume.SetUp failed for volume "${v.name}": ${errorMessage(err)}`, RETRY_MS, { driver: s.driver, volume: v.name }, { cause: err });
      }
    });
    await this.fsGroup.ensure(pod, v, volDir, target);
    return target;
  }

  /** Unpublishes every CSI volume of the pod found on disk; unstages volumes no other pod here publishes. */
  async tearDown(uid: string): Promise<void> {
    this.fsGroup.forget(uid);
    const base = join(this.layout.volumesDir(uid), PLUGIN_CSI);
    const names = await readdir(base).catch(() => [] as string[]);
    for (const name of names) {
      const dir = join(base, name);
      const target = join(dir, "mount");
      const data = await readVolData(dir);
      if (!data) {
        if (mountAt(readMountInfo(), target)) throw new CodedError("Internal", `CSI target ${target} is mounted but has no vol_data.json: cannot tell which driver to ask`, { target });
        await rm(dir, { recursive: true, force: true }); // setUp never got to record it
        continue;
      }
      await this.lock.with(`${data.driverName}/${data.volumeHandle}`, async () => {
        const d = this.registry.get(data.driverName);
        if (mountAt(readMountInfo(), target)) {
          if (!d) throw new VolumeError("Unavailable", "FailedUnmount", `driver ${data.driverName} is not registered: cannot unpublish volume "${name}"`, RETRY_MS);
          await d.client.unpublish(NodeUnpublishVolumeRequest.fromPartial({ volumeId: data.volumeHandle, targetPath: target }));
        } else if (d) {
          await d.client.unpublish(NodeUnpublishVolumeRequest.fromPartial({ volumeId: data.volumeHandle, targetPath: target })); // idempotent: cleans the target dir
        }
        await rmdir(target).catch(() => undefined);
        if (!(await this.publishedElsewhere(data, uid))) {
          const staged = mountAt(readMountInfo(), data.stagingPath);
          if (staged && !d) throw new VolumeError("Unavailable", "FailedUnmount", `driver ${data.driverName} is not registered: cannot unstage volume "${name}"`, RETRY_MS);
          if (d?.stageUnstage) {
            await d.client.unstage(NodeUnstageVolumeRequest.fromPartial({ volumeId: data.volumeHandle, stagingTargetPath: data.stagingPath }));
            await rmdir(dirname(data.stagingPath)).catch(() => undefined);
            this.log.info({ driver: data.driverName, volume: name }, "CSI volume unstaged (last pod on this node)");
          }
        }
        // Last: while this file exists the next teardown repeats what is left.
        await rm(dir, { recursive: true, force: true });
      });
    }
  }

  /** Does another pod directory on this node still hold this volume? Read from disk, not memory. */
  private async publishedElsewhere(data: VolData, uid: string): Promise<boolean> {
    const pods = await readdir(this.layout.podsDir()).catch(() => [] as string[]);
    for (const other of pods) {
      if (other === uid) continue;
      const base = join(this.layout.volumesDir(other), PLUGIN_CSI);
      for (const name of await readdir(base).catch(() => [] as string[])) {
        const o = await readVolData(join(base, name));
        if (o && o.driverName === data.driverName && o.volumeHandle === data.volumeHandle) return true;
      }
    }
    return false;
  }
}

async function writeVolData(dir: string, data: VolData): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o750 });
  const file = join(dir, "vol_data.json");
  await writeFile(`${file}.tmp`, JSON.stringify(data), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

async function readVolData(dir: string): Promise<VolData | undefined> {
  try {
    const v = JSON.parse(await readFile(join(dir, "vol_data.json"), "utf8")) as Partial<VolData>;
    if (typeof v.driverName !== "string" || typeof v.volumeHandle !== "string" || typeof v.stagingPath !== "string") return undefined;
    return v as VolData;
  } catch {
    return undefined;
  }
}
