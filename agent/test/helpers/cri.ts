// Looks at containerd from outside the agent: its CRI API and ip netns.
import { execFileSync } from "node:child_process";
import { credentials, Metadata } from "@grpc/grpc-js";
import { ContainerState, ListContainersRequest, ListPodSandboxRequest, PodSandboxState, RemovePodSandboxRequest, RuntimeServiceClient, StopPodSandboxRequest, type Container, type PodSandbox } from "@plasmacloud/proto/cri";
export const CONTAINERD_SOCK = process.env.CONTAINERD_SOCK ?? "/run/plasmacloud-stack/containerd.sock";

const client = new RuntimeServiceClient(`unix://${CONTAINERD_SOCK}`, credentials.createInsecure());

type Cb<R> = (e: Error | null, r: R) => void;

/** One unary call on any generated CRI client (its full overload), as a promise. */
export function criCall<C, Req, Res>(c: C, fn: (this: C, r: Req, md: Metadata, o: object, cb: Cb<Res>) => unknown, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => fn.call(c, req, new Metadata(), {}, (e, r) => (e ? reject(e) : resolve(r))));
}

const unary = <Req, Res>(fn: (this: RuntimeServiceClient, r: Req, md: Metadata, o: object, cb: Cb<Res>) => unknown, req: Req): Promise<Res> => criCall(client, fn, req);

export async function sandboxesOf(uid: string): Promise<PodSandbox[]> {
  const res = await unary(client.listPodSandbox, ListPodSandboxRequest.fromPartial({ filter: { labelSelector: { "io.kubernetes.pod.uid": uid } } }));
  return res.items;
}

export async function containersOf(uid: string): Promise<Container[]> {
  const res = await unary(client.listContainers, ListContainersRequest.fromPartial({ filter: { labelSelector: { "io.kubernetes.pod.uid": uid } } }));
  return res.containers;
}

export async function sandboxesOfNode(node: string): Promise<PodSandbox[]> {
  const res = await unary(client.listPodSandbox, ListPodSandboxRequest.fromPartial({ filter: { labelSelector: { "plasmacloud.io/node": node } } }));
  return res.items;
}

export const isReady = (s: PodSandbox): boolean => s.state === PodSandboxState.SANDBOX_READY;
export const isRunning = (c: Container): boolean => c.state === ContainerState.CONTAINER_RUNNING;

export function netnsList(): string[] {
  return execFileSync("ip", ["netns", "list"], { encoding: "utf8" }).split("\n").map((l) => l.split(" ")[0] ?? "").filter(Boolean);
}

/** Removes whatever a failed test left behind for this node (never another node's). */
export async function purgeNode(node: string): Promise<void> {
  for (const s of await sandboxesOfNode(node)) {
    await unary(client.stopPodSandbox, StopPodSandboxRequest.fromPartial({ podSandboxId: s.id })).catch(() => undefined);
    await unary(client.removePodSandbox, RemovePodSandboxRequest.fromPartial({ podSandboxId: s.id })).catch(() => undefined);
  }
}
