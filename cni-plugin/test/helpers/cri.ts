// CRI RuntimeService calls for the containerd test, through the shared promise wrapper.
import { credentials, Metadata } from "@grpc/grpc-js";
import { unary, type UnaryFn } from "@plasmacloud/common/grpc";
import {
  PodSandboxStatusRequest, RemovePodSandboxRequest, RunPodSandboxRequest, RuntimeServiceClient, StatusRequest, StopPodSandboxRequest,
  type PodSandboxStatusResponse, type StatusResponse,
} from "@plasmacloud/proto/cri";

export const CONTAINERD_SOCK = process.env.CONTAINERD_SOCK ?? `${process.env.PLASMA_RUN_DIR ?? "/run/plasmacloud-stack"}/containerd.sock`;


export class Cri {
  private readonly c = new RuntimeServiceClient(`unix://${CONTAINERD_SOCK}`, credentials.createInsecure());
  private call<Req, Res>(fn: UnaryFn<Req, Res, Metadata>, req: Req): Promise<Res> {
    return unary(this.c, "CRI", fn, req, { metadata: new Metadata(), timeoutMs: 30_000 });
  }

  status(): Promise<StatusResponse> {
    return this.call(this.c.status, StatusRequest.fromPartial({ verbose: true }));
  }

  /** Names of the CNI networks containerd has loaded from its conf_dir. */
  async networks(): Promise<string[]> {
    const info = JSON.parse((await this.status()).info.cniconfig ?? "{}") as { Networks?: { Config: { Name: string } }[] };
    return (info.Networks ?? []).map((n) => n.Config.Name);
  }

  async runPodSandbox(req: RunPodSandboxRequest): Promise<string> {
    return (await this.call(this.c.runPodSandbox, req)).podSandboxId;
  }

  podSandboxStatus(id: string): Promise<PodSandboxStatusResponse> {
    return this.call(this.c.podSandboxStatus, PodSandboxStatusRequest.fromPartial({ podSandboxId: id, verbose: true }));
  }

  async stopPodSandbox(id: string): Promise<void> {
    await this.call(this.c.stopPodSandbox, StopPodSandboxRequest.fromPartial({ podSandboxId: id }));
  }

  async removePodSandbox(id: string): Promise<void> {
    await this.call(this.c.removePodSandbox, RemovePodSandboxRequest.fromPartial({ podSandboxId: id }));
  }

  close(): void {
    this.c.close();
  }
}
