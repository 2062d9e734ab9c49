// The downward API volume (the kubelet's downwardapi plugin, CollectData):
// one file per item with a pod field or a container resource, written with
// the atomic writer on every sync, so a label or annotation change reaches
// running containers as the kubelet's does. On node disk, read-only for the
// pod, group-owned by fsGroup like configMap volumes.
import type { DownwardAPIVolumeSource, Pod } from "@plasmacloud/proto/k8shost";
import { mkdir } from "node:fs/promises";
import { errorMessage } from "@plasmacloud/common/errors";
import type { Logger } from "@plasmacloud/common/log";
import { fieldRefProblem, podFieldValue, VOLUME_FIELD_PATHS } from "../env/fieldpath";
import { resourceFieldProblem, resourceFieldValue, type Allocatable } from "../env/resources";
import { checkPayloadPath, writeAtomic, type FileProjection } from "./atomic-writer";
import { VolumeError } from "./types";

export const PLUGIN_DOWNWARD_API = "kubernetes.io~downward-api";
const DEFAULT_MODE = 0o644;
const RETRY_MS = 5_000;

const modeOk = (m: number | undefined): boolean => m === undefined || (Number.isInteger(m) && m >= 0 && m <= 0o777);

/** Why the node cannot serve this source, or undefined (the API server's validateDownwardAPIVolumeSource). */
export function downwardUnsupported(src: DownwardAPIVolumeSource): string | undefined {
  if (!modeOk(src.defaultMode)) return `downwardAPI.defaultMode: ${src.defaultMode} is not 0-0777`;
  for (const [i, it] of src.items.entries()) {
    const f = `downwardAPI.items[${i}]`;
    const bad = checkPayloadPath(it.path);
    if (bad) return `${f}.path: '${it.path}' ${bad}`;
    if (!modeOk(it.mode)) return `${f}.mode: ${it.mode} is not 0-0777`;
    if ((it.fieldRef === undefined) === (it.resourceFieldRef === undefined)) return `${f}: exactly one of fieldRef and resourceFieldRef must be set`;
    if (it.fieldRef) {
      const p = fieldRefProblem(it.fieldRef, VOLUME_FIELD_PATHS);
      if (p) return `${f}.fieldRef.${p}`;
    } else if (it.resourceFieldRef) {
      if (!it.resourceFieldRef.containerName) return `${f}.resourceFieldRef.containerName: must be set in a volume`;
      const p = resourceFieldProblem(it.resourceFieldRef);
      if (p) return `${f}.resourceFieldRef.${p}`;
    }
  }
  return undefined;
}

/** The files and their contents now; throws when an item cannot be computed (a container that is not there). */
export function downwardPayload(pod: Pod, src: DownwardAPIVolumeSource, allocatable: Allocatable): Map<string, FileProjection> {
  const utf8 = new TextEncoder();
  const out = new Map<string, FileProjection>();
  for (const it of src.items) {
    // Volume paths take no runtime facts: only metadata is allowed there.
    const value = it.fieldRef ? podFieldValue(pod, it.fieldRef.fieldPath, { podIPs: [], hostIP: "" }) : resourceFieldValue(it.resourceFieldRef!, pod, undefined, allocatable);
    out.set(it.path, { data: utf8.encode(value), mode: it.mode ?? src.defaultMode ?? DEFAULT_MODE });
  }
  return out;
}

export async function setUpDownwardAPI(pod: Pod, volName: string, dir: string, src: DownwardAPIVolumeSource, allocatable: Allocatable, log: Logger): Promise<void> {
  const m = pod.metadata!;
  let payload: Map<string, FileProjection>;
  try {
    payload = downwardPayload(pod, src, allocatable);
  } catch (err) {
    throw new VolumeError("InvalidArgument", "FailedMount", `MountVolume.SetUp failed for volume "${volName}": ${errorMessage(err)}`, RETRY_MS, { volume: volName, namespace: m.namespace }, { cause: err });
  }
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const fsGroup = pod.spec?.securityContext?.fsGroup;
  if (await writeAtomic(dir, payload, fsGroup === undefined ? undefined : Number(fsGroup))) {
    log.info({ pod: `${m.namespace}/${m.name}`, volume: volName, files: payload.size }, "downward API volume contents written");
  }
}
