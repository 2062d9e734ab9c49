// Node-local volumes: emptyDir on the node's disk, under the kubelet's layout
// <root>/pods/<uid>/volumes/kubernetes.io~empty-dir/<name>.
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Container, Pod, Volume } from "@plasmacloud/proto/k8shost";
import type { ContainerRequest } from "../runtime/types";
import type { PodVolumes } from "./types";

export class LocalVolumes implements PodVolumes {
  constructor(private readonly rootDir: string) {}

  private podDir(uid: string): string {
    return join(this.rootDir, "pods", uid);
  }

  unsupported(v: Volume): string | undefined {
    if (v.emptyDir) return v.emptyDir.medium && v.emptyDir.medium !== "" ? `emptyDir medium '${v.emptyDir.medium}' is not supported by this node yet` : undefined;
    const kind = v.hostPath ? "hostPath" : v.configMap ? "configMap" : v.secret ? "secret" : v.csi ? "csi" : "";
    return kind ? `${kind} volumes are not supported by this node yet` : "no volume source is set";
  }

  async setUp(pod: Pod): Promise<Map<string, string>> {
    const uid = pod.metadata!.uid;
    const out = new Map<string, string>();
    for (const v of pod.spec?.volumes ?? []) {
      if (!v.emptyDir) continue;
      const dir = join(this.podDir(uid), "volumes", "kubernetes.io~empty-dir", v.name);
      await mkdir(dir, { recursive: true, mode: 0o777 });
      out.set(v.name, dir);
    }
    return out;
  }

  async mounts(_pod: Pod, c: Container, paths: Map<string, string>): Promise<ContainerRequest["mounts"]> {
    const out: ContainerRequest["mounts"] = [];
    for (const vm of c.volumeMounts) {
      const base = paths.get(vm.name);
      if (!base) continue;
      let hostPath = base;
      if (vm.subPath) {
        hostPath = join(base, vm.subPath);
        await mkdir(hostPath, { recursive: true });
      }
      out.push({ containerPath: vm.mountPath, hostPath, readOnly: vm.readOnly });
    }
    return out;
  }

  async tearDown(uid: string): Promise<void> {
    await rm(this.podDir(uid), { recursive: true, force: true });
  }
}
