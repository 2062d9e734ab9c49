// A floor: what a minimal CRI client pays to start `count` pods at once on a
// containerd, with the same calls the agent's sync needs at the least
// (RunPodSandbox, ImageStatus, CreateContainer, StartContainer) and nothing
// else: no control plane, no status, no watch. Each pod's time runs from its
// first call to StartContainer returning. Everything it made goes after.
// The sandbox runs under the runtime's default seccomp profile, as every
// kubelet's does (kuberuntime_sandbox.go, kubernetes#84623) and the agent's:
// without it runc skips compiling the filter for the pause container, which
// made the floor about 15 % faster than any kubelet node.
import { rmdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { credentials } from "@grpc/grpc-js";
import { TenantKeys } from "@plasmacloud/proto/annotations";
import {
  CreateContainerRequest,
  ImageServiceClient,
  ImageStatusRequest,
  ListPodSandboxRequest,
  PodSandboxConfig,
  RemovePodSandboxRequest,
  RunPodSandboxRequest,
  RuntimeServiceClient,
  SecurityProfile_ProfileType,
  StartContainerRequest,
  StopPodSandboxRequest,
} from "@plasmacloud/proto/cri";
import { criCall } from "../../agent/test/helpers/cri";

const CGROUP_ROOT = "/k8shost-bench";

export interface FloorOptions {
  socket: string;
  image: string;
  /** The tenant annotations novanet reads (harmless to other plugins). */
  subnet: string;
}

/** One pod's start: ms in all and per call, named as the agent's phases (observe/pod-start.ts). */
export interface FloorPod {
  ms: number;
  phases: Record<"sandbox" | "pull" | "create" | "start", number>;
}

/** Starts `count` pods at once; resolves with each one's times. Removes them before returning. */
export async function floorBurst(o: FloorOptions, count: number, tag: string): Promise<FloorPod[]> {
  const rt = new RuntimeServiceClient(`unix://${o.socket}`, credentials.createInsecure());
  const im = new ImageServiceClient(`unix://${o.socket}`, credentials.createInsecure(), { channelOverride: rt.getChannel() });
  const run = `${tag}-${Date.now()}`;
  const one = async (i: number): Promise<FloorPod> => {
    const t0 = performance.now();
    const config = PodSandboxConfig.fromPartial({
      metadata: { name: `f${i}`, uid: `${run}-${i}`, namespace: "bench" },
      hostname: `f${i}`,
      labels: { "bench.plasmacloud.io/run": run },
      annotations: { [TenantKeys.orgId]: "org-a", [TenantKeys.projectId]: "proj-a", [TenantKeys.subnetId]: o.subnet },
      linux: { cgroupParent: `${CGROUP_ROOT}/pod${run}-${i}`, securityContext: { seccomp: { profileType: SecurityProfile_ProfileType.RuntimeDefault } } },
    });
    const sb = await criCall(rt, rt.runPodSandbox, RunPodSandboxRequest.fromPartial({ config }));
    const t1 = performance.now();
    await criCall(im, im.imageStatus, ImageStatusRequest.fromPartial({ image: { image: o.image } }));
    const t2 = performance.now();
    const c = await criCall(rt, rt.createContainer, CreateContainerRequest.fromPartial({ podSandboxId: sb.podSandboxId, config: { metadata: { name: "c" }, image: { image: o.image }, command: ["sleep", "3600"] }, sandboxConfig: config }));
    const t3 = performance.now();
    await criCall(rt, rt.startContainer, StartContainerRequest.fromPartial({ containerId: c.containerId }));
    const t4 = performance.now();
    return { ms: t4 - t0, phases: { sandbox: t1 - t0, pull: t2 - t1, create: t3 - t2, start: t4 - t3 } };
  };
  try {
    return await Promise.all(Array.from({ length: count }, (_, i) => one(i)));
  } finally {
    const list = await criCall(rt, rt.listPodSandbox, ListPodSandboxRequest.fromPartial({ filter: { labelSelector: { "bench.plasmacloud.io/run": run } } }));
    await Promise.all(list.items.map(async (s) => {
      await criCall(rt, rt.stopPodSandbox, StopPodSandboxRequest.fromPartial({ podSandboxId: s.id }));
      await criCall(rt, rt.removePodSandbox, RemovePodSandboxRequest.fromPartial({ podSandboxId: s.id }));
    }));
    rt.close();
    await removeBenchCgroups();
  }
}

/** runc leaves the pod-level cgroup parents it made on every hierarchy: they go, and the bench root with them. */
export async function removeBenchCgroups(): Promise<void> {
  const root = "/sys/fs/cgroup";
  const hierarchies = [root, ...(await readdir(root).catch(() => [] as string[])).map((h) => join(root, h))];
  await Promise.all(hierarchies.map(async (h) => {
    const dir = join(h, CGROUP_ROOT);
    const pods = await readdir(dir, { withFileTypes: true }).catch(() => []);
    await Promise.all(pods.filter((d) => d.isDirectory()).map((d) => rmdir(join(dir, d.name)).catch(() => undefined)));
    await rmdir(dir).catch(() => undefined);
  }));
}
