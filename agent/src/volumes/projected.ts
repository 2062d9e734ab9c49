// configMap and secret volumes: fetched in the pod's tenant, projected with
// items/mode/defaultMode, written with the atomic writer. Secrets live on a
// tmpfs per volume so their bytes never reach the node's disk. Re-run on
// every sync, which is how updates reach running pods.
import type { ConfigMapVolumeSource, KeyToPath, Pod, SecretVolumeSource } from "@plasmacloud/proto/k8shost";
import { mkdir, readlink } from "node:fs/promises";
import { errorCode, errorMessage } from "@plasmacloud/common/errors";
import type { Logger } from "@plasmacloud/common/log";
import { mountAt, readMountInfo } from "@plasmacloud/common/mountinfo";
import { checkPayloadPath, DATA_DIR, writeAtomic, type FileProjection } from "./atomic-writer";
import { mountTmpfs } from "./mount";
import type { ObjectData, ObjectReader } from "./objects";
import { VolumeError } from "./types";

const DEFAULT_MODE = 0o644;
const RETRY_MS = 5_000;

export type ProjectedSource = { kind: "configMap"; src: ConfigMapVolumeSource } | { kind: "secret"; src: SecretVolumeSource };

const objName = (p: ProjectedSource): string => (p.kind === "configMap" ? p.src.name : p.src.secretName);

export function projectedUnsupported(p: ProjectedSource): string | undefined {
  const f = p.kind === "configMap" ? "configMap.name" : "secret.secretName";
  if (!objName(p)) return `${f}: must not be empty`;
  const modeOk = (m: number | undefined): boolean => m === undefined || (Number.isInteger(m) && m >= 0 && m <= 0o777);
  if (!modeOk(p.src.defaultMode)) return `${p.kind}.defaultMode: ${p.src.defaultMode} is not 0-0777`;
  for (const [i, it] of p.src.items.entries()) {
    if (!it.key) return `${p.kind}.items[${i}].key: must not be empty`;
    const bad = checkPayloadPath(it.path);
    if (bad) return `${p.kind}.items[${i}].path: '${it.path}' ${bad}`;
    if (!modeOk(it.mode)) return `${p.kind}.items[${i}].mode: ${it.mode} is not 0-0777`;
  }
  return undefined;
}

/** The kubelet's MakePayload: every key, or only the listed items. */
export function makePayload(items: KeyToPath[], data: Map<string, Uint8Array>, defaultMode: number | undefined, optional: boolean): Map<string, FileProjection> | string {
  const mode = defaultMode ?? DEFAULT_MODE;
  const out = new Map<string, FileProjection>();
  if (items.length === 0) {
    for (const [k, v] of data) out.set(k, { data: v, mode });
    return out;
  }
  for (const it of items) {
    const v = data.get(it.key);
    if (!v) {
      if (optional) continue;
      return `references non-existent key ${it.key}`;
    }
    out.set(it.path, { data: v, mode: it.mode ?? mode });
  }
  return out;
}

export class ProjectedVolumes {
  constructor(private readonly objects: ObjectReader, private readonly log: Logger) {}

  async setUp(pod: Pod, volName: string, dir: string, p: ProjectedSource): Promise<void> {
    const m = pod.metadata!;
    const what = `${p.kind === "configMap" ? "configmap" : "secret"} "${objName(p)}"`;
    const fail = (code: "NotFound" | "Unavailable" | "InvalidArgument", msg: string, cause?: unknown): VolumeError =>
      new VolumeError(code, "FailedMount", `MountVolume.SetUp failed for volume "${volName}": ${msg}`, RETRY_MS, { volume: volName, namespace: m.namespace }, { cause });
    const populated = (await readlink(`${dir}/${DATA_DIR}`).catch(() => undefined)) !== undefined;
    let data: ObjectData;
    try {
      data = p.kind === "configMap" ? await this.objects.configMap(pod, objName(p)) : await this.objects.secret(pod, objName(p));
    } catch (err) {
      // A running pod keeps what it has while the control plane is away.
      if (populated) {
        this.log.warn({ pod: `${m.namespace}/${m.name}`, volume: volName, err: errorMessage(err) }, "cannot refresh volume contents; keeping the current ones");
        return;
      }
      throw fail(errorCode(err) === "Unavailable" ? "Unavailable" : "NotFound", `cannot read ${what}: ${errorMessage(err)}`, err);
    }
    if (!data) {
      if (!p.src.optional) {
        if (populated) return; // deleted while the pod runs: keep the last contents, as the kubelet does
        throw fail("NotFound", `${what} not found in namespace ${m.namespace}`);
      }
      data = new Map();
    }
    const payload = makePayload(p.src.items, data, p.src.defaultMode, p.src.optional);
    if (typeof payload === "string") throw fail("InvalidArgument", `${what} ${payload}`);
    // Only now, with something to write: a refused pod gets no directory or tmpfs.
    await mkdir(dir, { recursive: true, mode: 0o755 });
    if (p.kind === "secret" && mountAt(readMountInfo(), dir)?.fsType !== "tmpfs") await mountTmpfs(dir, undefined, 0o755);
    const fsGroup = pod.spec?.securityContext?.fsGroup;
    if (await writeAtomic(dir, payload, fsGroup === undefined ? undefined : Number(fsGroup))) this.log.info({ pod: `${m.namespace}/${m.name}`, volume: volName, files: payload.size }, `${p.kind} volume contents written`);
  }
}
