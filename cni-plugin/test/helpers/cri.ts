// A thin promise wrapper over CRI RuntimeService for the containerd test.
import { credentials, type ServiceError } from "@grpc/grpc-js";
import {
  PodSandboxStatusRequest, RemovePodSandboxRequest, RunPodSandboxRequest, RuntimeServiceClient, StatusRequest, StopPodSandboxRequest,
  type PodSandboxStatusResponse, type StatusResponse,
} from "@plasmacloud/proto/cri";

export const CONTAINERD_SOCK = process.env.CONTAINERD_SOCK ?? `${process.env.PLASMA_RUN_DIR ?? "/run/plasmacloud-stack"}/containerd.sock`;

type Cb<T> = (e: ServiceError | null, r: T) => void;
const p = <T>(f: (cb: Cb<T>) => unknown): Promise<T> => new Promise((res, rej) => { f((e, r) => (e ? rej(e) : res(r))); });

export class Cri {
  private readonly c = new RuntimeServiceClient(`unix://${CONTAINERD_SOCK}`, credentials.createInsecure());

  status(): Promise<StatusResponse> {
    return p((cb) => this.c.status(StatusRequest.fromPartial({ verbose: true }), cb));
  }

  /** Names of the CNI networks containerd has loaded from its conf_dir. */
  async networks(): Promise<string[]> {
    const info = JSON.parse((await this.status()).info.cniconfig ?? "{}") as { Networks?: { Config: { Name: string } }[] };
    return (info.Networks ?? []).map((n) => n.Config.Name);
  }

  async runPodSandbox(req: RunPodSandboxRequest): Promise<string> {
    return (await p<{ podSandboxId: string }>((cb) => this.c.runPodSandbox(req, cb))).podSandboxId;
  }

  podSandboxStatus(id: string): Promise<PodSandboxStatusResponse> {
    return p((cb) => this.c.podSandboxStatus(PodSandboxStatusRequest.fromPartial({ podSandboxId: id, verbose: true }), cb));
  }

  async stopPodSandbox(id: string): Promise<void> {
    await p((cb) => this.c.stopPodSandbox(StopPodSandboxRequest.fromPartial({ podSandboxId: id }), cb));
  }

  async removePodSandbox(id: string): Promise<void> {
    await p((cb) => this.c.removePodSandbox(RemovePodSandboxRequest.fromPartial({ podSandboxId: id }), cb));
  }

  close(): void {
    this.c.close();
  }
}
