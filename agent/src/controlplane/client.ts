// The k8shost client: one channel, bearer-token metadata on every call,
// deadlines; failures are GrpcCallError with the shared status-code map.
import { credentials, Metadata, type ChannelCredentials } from "@grpc/grpc-js";
import { readFileSync } from "node:fs";
import { unary, type UnaryFn } from "@plasmacloud/common/grpc";
import { TokenFile } from "@plasmacloud/common/token";
import {
  ConfigMapServiceClient,
  EndpointSliceServiceClient,
  EventServiceClient,
  NodeServiceClient,
  PodServiceClient,
  SecretServiceClient,
  ServiceServiceClient,
} from "@plasmacloud/proto/k8shost";

export class ControlPlane {
  readonly pods: PodServiceClient;
  readonly nodes: NodeServiceClient;
  readonly configMaps: ConfigMapServiceClient;
  readonly secrets: SecretServiceClient;
  readonly events: EventServiceClient;
  readonly services: ServiceServiceClient;
  readonly endpointSlices: EndpointSliceServiceClient;
  private readonly token: TokenFile;

  constructor(address: string, tokenFile: string, caFile: string, private readonly timeoutMs: number) {
    const creds: ChannelCredentials = caFile ? credentials.createSsl(readFileSync(caFile)) : credentials.createInsecure();
    // grpc-js's own reconnect backoff defaults to 120 s: cap it so the agent
    // notices a returning control plane within seconds, not minutes.
    const opts = {
      "grpc.keepalive_time_ms": 30_000,
      "grpc.keepalive_timeout_ms": 10_000,
      "grpc.initial_reconnect_backoff_ms": 500,
      "grpc.max_reconnect_backoff_ms": 5_000,
      "grpc.max_receive_message_length": 64 << 20,
    };
    this.pods = new PodServiceClient(address, creds, opts);
    // Share the channel between services.
    const channel = this.pods.getChannel();
    this.nodes = new NodeServiceClient(address, creds, { ...opts, channelOverride: channel });
    this.configMaps = new ConfigMapServiceClient(address, creds, { ...opts, channelOverride: channel });
    this.secrets = new SecretServiceClient(address, creds, { ...opts, channelOverride: channel });
    this.events = new EventServiceClient(address, creds, { ...opts, channelOverride: channel });
    this.services = new ServiceServiceClient(address, creds, { ...opts, channelOverride: channel });
    this.endpointSlices = new EndpointSliceServiceClient(address, creds, { ...opts, channelOverride: channel });
    this.token = new TokenFile(tokenFile);
  }

  /** Bearer metadata; throws Unauthenticated when the token file is missing or empty. */
  metadata(): Metadata {
    const md = new Metadata();
    md.set("authorization", `Bearer ${this.token.get()}`);
    return md;
  }

  /** One unary call of a bound client method with auth metadata and a deadline. */
  async call<Req, Res>(method: string, fn: UnaryFn<Req, Res, Metadata>, req: Req): Promise<Res> {
    return unary(this, method, fn, req, { metadata: this.metadata(), timeoutMs: this.timeoutMs });
  }

  close(): void {
    this.pods.close();
  }
}
