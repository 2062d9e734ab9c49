// Looks at containerd from outside the agent: its CRI API and ip netns.
import { execFileSync } from "node:child_process";
import { credentials, Metadata } from "@grpc/grpc-js";
import { unary, type UnaryFn } from "@plasmacloud/common/grpc";
import { ContainerState, ContainerStatusRequest, ExecSyncRequest, ListContainersRequest, ListPodSandboxRequest, PodSandboxState, RemovePodSandboxRequest, RuntimeServiceClient, StopPodSandboxRequest, type Container, type PodSandbox } from "@plasmacloud/proto/cri";
export const CONTAINERD_SOCK = process.env.CONTAINERD_SOCK ?? "/run/plasmacloud-stack/containerd.sock";

const client = new RuntimeServiceClient(`unix://${CONTAINERD_SOCK}`, credentials.createInsecure());

/** One unary call on any generated CRI client, as a promise (the shared wrapper, a test-sized deadline). */
export function criCall<Req, Res>(c: object, fn: UnaryFn<Req, Res, Metadata>, req: Req): Promise<Res> {
  return unary(c, "CRI", fn, req, { metadata: new Metadata(), timeoutMs: 30_000 });
}

const call = <Req, Res>(fn: UnaryFn<Req, Res, Metadata>, req: Req): Promise<Res> => criCall(client, fn, req);

export async function sandboxesOf(uid: string): Promise<PodSandbox[]> {
  const res = await call(client.listPodSandbox, ListPodSandboxRequest.fromPartial({ filter: { labelSelector: { "io.kubernetes.pod.uid": uid } } }));
  return res.items;
}

export async function containersOf(uid: string): Promise<Container[]> {
  const res = await call(client.listContainers, ListContainersRequest.fromPartial({ filter: { labelSelector: { "io.kubernetes.pod.uid": uid } } }));
  return res.containers;
}

export async function sandboxesOfNode(node: string): Promise<PodSandbox[]> {
  const res = await call(client.listPodSandbox, ListPodSandboxRequest.fromPartial({ filter: { labelSelector: { "plasmacloud.io/node": node } } }));
  return res.items;
}

/** Runs a command in a container through CRI ExecSync (as the container's user, with its capabilities). */
export async function execIn(containerId: string, cmd: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const res = await call(client.execSync, ExecSyncRequest.fromPartial({ containerId, cmd, timeout: 10n }));
  return { stdout: Buffer.from(res.stdout).toString("utf8"), stderr: Buffer.from(res.stderr).toString("utf8"), exitCode: res.exitCode };
}

/** The container's init process on the host, from the runtime's verbose status. */
export async function containerPid(containerId: string): Promise<number> {
  const res = await call(client.containerStatus, ContainerStatusRequest.fromPartial({ containerId, verbose: true }));
  return (JSON.parse(res.info.info ?? "{}") as { pid?: number }).pid ?? 0;
}

export const isReady = (s: PodSandbox): boolean => s.state === PodSandboxState.SANDBOX_READY;
export const isRunning = (c: Container): boolean => c.state === ContainerState.CONTAINER_RUNNING;

export function netnsList(): string[] {
  return execFileSync("ip", ["netns", "list"], { encoding: "utf8" }).split("\n").map((l) => l.split(" ")[0] ?? "").filter(Boolean);
}

/** Removes whatever a failed test left behind for this node (never another node's). */
export async function purgeNode(node: string): Promise<void> {
  for (const s of await sandboxesOfNode(node)) await purgeSandbox(s.id);
}

/** Every sandbox containerd has, whoever made it. */
export async function allSandboxes(): Promise<PodSandbox[]> {
  return (await call(client.listPodSandbox, ListPodSandboxRequest.fromPartial({}))).items;
}

/** Stops (CNI DEL, containers killed) and removes one sandbox; errors are for the caller to judge by listing again. */
export async function purgeSandbox(id: string): Promise<void> {
  await call(client.stopPodSandbox, StopPodSandboxRequest.fromPartial({ podSandboxId: id })).catch(() => undefined);
  await call(client.removePodSandbox, RemovePodSandboxRequest.fromPartial({ podSandboxId: id })).catch(() => undefined);
}
