// The node's PodVolumes: dispatches each volume to its source's handler under
// the kubelet's layout, maps volumeMounts to CRI mounts (subPath, readOnly),
// and tears a pod's volumes down from what is on disk and in the mount table.
import type { Container, Pod, Volume } from "@plasmacloud/proto/k8shost";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { CodedError, errorMessage } from "@plasmacloud/common/errors";
import type { Logger } from "@plasmacloud/common/log";
import { mountsUnder, readMountInfo } from "@plasmacloud/common/mountinfo";
import type { AgentConfig } from "../config/schema";
import type { ControlPlane } from "../controlplane/client";
import { noEvents, type PodEvents } from "../events/types";
import type { ContainerRequest } from "../runtime/types";
import { CsiFSGroup, type FSGroupPolicy } from "./csi/fsgroup";
import { CsiVolumes } from "./csi/mounter";
import { PluginRegistry } from "./csi/registry";
import { downwardUnsupported, PLUGIN_DOWNWARD_API, setUpDownwardAPI } from "./downward";
import { emptyDirUnsupported, setUpEmptyDir } from "./emptydir";
import { ensureHostsFile, HOSTS_PATH, mountsOwnHosts, type PodHosts } from "./etc-hosts";
import { HostPathPolicy } from "./hostpath";
import { Layout, PLUGIN_CONFIG_MAP, PLUGIN_CSI, PLUGIN_EMPTY_DIR, PLUGIN_SECRET } from "./layout";
import { unmount } from "./mount";
import { controlPlaneObjects, type ObjectReader } from "./objects";
import { projectedUnsupported, ProjectedVolumes, type ProjectedSource } from "./projected";
import { resolveSubPath } from "./subpath";
import type { PodVolumes } from "./types";

export interface VolumeManagerOptions {
  rootDir: string;
  hostPathPrefixes: string[];
  pluginsRegistryDir: string;
  csiTimeoutMs: number;
  objects: ObjectReader;
  log: Logger;
  /** The node's allocatable resources: a downward API resourceFieldRef's value for a container without a limit. */
  allocatable?: Record<string, string>;
  /** CSI driver name -> its CSIDriver fsGroupPolicy; others get ReadWriteOnceWithFSType. */
  csiFSGroupPolicy?: Record<string, FSGroupPolicy>;
  /** Where fsGroup trouble on CSI volumes is reported (the kubelet's event recorder). */
  events?: PodEvents;
}

function projected(v: Volume): ProjectedSource | undefined {
  if (v.configMap) return { kind: "configMap", src: v.configMap };
  if (v.secret) return { kind: "secret", src: v.secret };
  return undefined;
}

export class VolumeManager implements PodVolumes {
  private readonly layout: Layout;
  private readonly hostPaths: HostPathPolicy;
  private readonly registry: PluginRegistry;
  private readonly csi: CsiVolumes;
  private readonly projected: ProjectedVolumes;
  private readonly log: Logger;
  private readonly allocatable: Record<string, string>;

  /** Builds the manager from the agent's config and starts watching for CSI drivers. */
  static fromConfig(cfg: AgentConfig, cp: ControlPlane, log: Logger, allocatable: Record<string, string> = {}, events: PodEvents = noEvents): VolumeManager {
    const m = new VolumeManager({
      rootDir: cfg.rootDir,
      hostPathPrefixes: cfg.volumes.hostPathPrefixes,
      pluginsRegistryDir: cfg.volumes.pluginsRegistryDir || join(cfg.rootDir, "plugins_registry"),
      csiTimeoutMs: cfg.volumes.csiTimeoutSeconds * 1000,
      objects: controlPlaneObjects(cp),
      log,
      allocatable,
      csiFSGroupPolicy: cfg.volumes.csiFSGroupPolicy,
      events,
    });
    m.start().catch((err: unknown) => log.error({ err: errorMessage(err) }, "CSI plugin registry failed to start"));
    return m;
  }

  constructor(o: VolumeManagerOptions) {
    this.log = o.log;
    this.allocatable = o.allocatable ?? {};
    this.layout = new Layout(o.rootDir);
    this.hostPaths = new HostPathPolicy(o.hostPathPrefixes);
    this.registry = new PluginRegistry(o.pluginsRegistryDir, o.csiTimeoutMs, o.log);
    this.csi = new CsiVolumes(this.layout, this.registry, new CsiFSGroup(o.csiFSGroupPolicy ?? {}, o.events ?? noEvents, o.log), o.log);
    this.projected = new ProjectedVolumes(o.objects, o.log);
  }

  start(): Promise<void> {
    return this.registry.start();
  }

  stop(): void {
    this.registry.stop();
  }

  unsupported(v: Volume): string | undefined {
    const set = [v.emptyDir, v.hostPath, v.configMap, v.secret, v.csi, v.downwardApi].filter((x) => x !== undefined).length;
    if (set === 0) return "no volume source is set";
    if (set > 1) return "more than one volume source is set";
    if (v.emptyDir) return emptyDirUnsupported(v.emptyDir);
    if (v.hostPath) return this.hostPaths.unsupported(v.hostPath);
    if (v.csi) return this.csi.unsupported(v);
    if (v.downwardApi) return downwardUnsupported(v.downwardApi);
    return projectedUnsupported(projected(v)!);
  }

  async setUp(pod: Pod): Promise<Map<string, string>> {
    const uid = pod.metadata!.uid;
    const fsGroup = pod.spec?.securityContext?.fsGroup;
    const out = new Map<string, string>();
    for (const v of pod.spec?.volumes ?? []) {
      const p = projected(v);
      if (v.emptyDir) {
        const dir = this.layout.volumeDir(uid, PLUGIN_EMPTY_DIR, v.name);
        await setUpEmptyDir(dir, v.emptyDir, fsGroup === undefined ? undefined : Number(fsGroup));
        out.set(v.name, dir);
      } else if (v.hostPath) {
        out.set(v.name, await this.hostPaths.setUp(v.name, v.hostPath));
      } else if (p) {
        const dir = this.layout.volumeDir(uid, p.kind === "configMap" ? PLUGIN_CONFIG_MAP : PLUGIN_SECRET, v.name);
        await this.projected.setUp(pod, v.name, dir, p);
        out.set(v.name, dir);
      } else if (v.csi) {
        out.set(v.name, await this.csi.setUp(pod, v));
      } else if (v.downwardApi) {
        const dir = this.layout.volumeDir(uid, PLUGIN_DOWNWARD_API, v.name);
        await setUpDownwardAPI(pod, v.name, dir, v.downwardApi, this.allocatable, this.log);
        out.set(v.name, dir);
      }
    }
    return out;
  }

  async mounts(pod: Pod, c: Container, paths: Map<string, string>): Promise<ContainerRequest["mounts"]> {
    const out: ContainerRequest["mounts"] = [];
    for (const vm of c.volumeMounts) {
      const base = paths.get(vm.name);
      const v = pod.spec?.volumes.find((x) => x.name === vm.name);
      if (!base || !v) continue;
      // configMap and secret contents belong to the control plane: never writable by the pod.
      const forcedRO = v.configMap !== undefined || v.secret !== undefined || v.downwardApi !== undefined || v.csi?.readOnly === true;
      const hostPath = vm.subPath ? await resolveSubPath(base, vm.subPath, vm.name) : base;
      out.push({ containerPath: vm.mountPath, hostPath, readOnly: vm.readOnly || forcedRO });
    }
    return out;
  }

  async hostsMount(uid: string, c: Container, hosts: PodHosts): Promise<ContainerRequest["mounts"][number] | undefined> {
    // As the kubelet: not over the container's own /etc/hosts mount, and not before the pod has an address.
    if (mountsOwnHosts(c) || (!hosts.hostNetwork && hosts.ips.length === 0)) return undefined;
    const podDir = this.layout.podDir(uid);
    await mkdir(podDir, { recursive: true, mode: 0o750 });
    const path = join(podDir, "etc-hosts");
    await ensureHostsFile(path, hosts);
    return { containerPath: HOSTS_PATH, hostPath: path, readOnly: false };
  }

  async tearDown(uid: string): Promise<void> {
    await this.csi.tearDown(uid);
    const podDir = this.layout.podDir(uid);
    for (const m of mountsUnder(readMountInfo(), podDir)) {
      if (m.mountPoint.includes(`/${PLUGIN_CSI}/`)) continue; // only the driver may take these away
      await unmount(m.mountPoint);
      this.log.info({ podUid: uid, mountPoint: m.mountPoint, fsType: m.fsType }, "volume unmounted");
    }
    // Never delete through a mount: that would delete the volume's data.
    const left = mountsUnder(readMountInfo(), podDir);
    if (left.length) throw new CodedError("Conflict", `pod directory still has mounts: ${left.map((m) => m.mountPoint).join(", ")}`, { podUid: uid });
    await rm(podDir, { recursive: true, force: true });
  }
}
