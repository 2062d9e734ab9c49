// Where volumes live on the node: the kubelet's directory layout, so tools and
// habits carry over and everything is found again from disk after a restart.
import { createHash } from "node:crypto";
import { join } from "node:path";

export const PLUGIN_EMPTY_DIR = "kubernetes.io~empty-dir";
export const PLUGIN_HOST_PATH = "kubernetes.io~host-path";
export const PLUGIN_CONFIG_MAP = "kubernetes.io~configmap";
export const PLUGIN_SECRET = "kubernetes.io~secret";
export const PLUGIN_CSI = "kubernetes.io~csi";

export class Layout {
  constructor(readonly rootDir: string) {}

  podsDir(): string {
    return join(this.rootDir, "pods");
  }

  podDir(uid: string): string {
    return join(this.rootDir, "pods", uid);
  }

  volumesDir(uid: string): string {
    return join(this.podDir(uid), "volumes");
  }

  volumeDir(uid: string, plugin: string, name: string): string {
    return join(this.volumesDir(uid), plugin, name);
  }

  /** <vol>/mount: the CSI publish target; <vol>/vol_data.json describes it. */
  csiTarget(uid: string, name: string): string {
    return join(this.volumeDir(uid, PLUGIN_CSI, name), "mount");
  }

  csiStaging(driver: string, volumeHandle: string): string {
    const h = createHash("sha256").update(volumeHandle).digest("hex");
    return join(this.rootDir, "plugins", "kubernetes.io", "csi", driver, h, "globalmount");
  }
}
