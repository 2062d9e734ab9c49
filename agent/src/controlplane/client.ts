// The k8shost client: one channel, bearer-token metadata on every call,
// deadlines, and gRPC status codes mapped to AgentError codes.
import { credentials, Metadata, status, type ChannelCredentials, type ServiceError } from "@grpc/grpc-js";
import { readFileSync } from "node:fs";
import {
  ConfigMapServiceClient,
  NodeServiceClient,
  PodServiceClient,
  SecretServiceClient,
} from "@plasmacloud/proto/k8shost";
import { AgentError, type ErrorCode } from "../errors";
import { TokenFile } from "./token";

const codeMap: Partial<Record<number, ErrorCode>> = {
  [status.INVALID_ARGUMENT]: "InvalidArgument",
  [status.NOT_FOUND]: "NotFound",
  [status.ALREADY_EXISTS]: "Conflict",
  [status.ABORTED]: "Conflict",
  [status.FAILED_PRECONDITION]: "Conflict",
  [status.UNAVAILABLE]: "Unavailable",
  [status.UNAUTHENTICATED]: "Unauthenticated",
  [status.PERMISSION_DENIED]: "PermissionDenied",
  [status.DEADLINE_EXCEEDED]: "DeadlineExceeded",
  [status.OUT_OF_RANGE]: "TooOld",
  [status.CANCELLED]: "Unavailable",
};

export function fromGrpc(err: unknown, method: string): AgentError {
  if (err instanceof AgentError) return err;
  const e = err as Partial<ServiceError>;
  const code = (typeof e.code === "number" && codeMap[e.code]) || "Internal";
  return new AgentError(code, `${method}: ${e.details || e.message || String(err)}`, { method, grpcCode: e.code }, { cause: err });
}

type Callback<R> = (err: ServiceError | null, res: R) => void;

export class ControlPlane {
  readonly pods: PodServiceClient;
  readonly nodes: NodeServiceClient;
  readonly configMaps: ConfigMapServiceClient;
  readonly secrets: SecretServiceClient;
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
    this.token = new TokenFile(tokenFile);
  }

  metadata(): Metadata {
    const md = new Metadata();
    md.set("authorization", `Bearer ${this.token.get()}`);
    return md;
  }

  /** Runs one unary call with auth metadata and a deadline; errors become AgentError. */
  call<Req, Res>(method: string, fn: (req: Req, md: Metadata, opts: { deadline: Date }, cb: Callback<Res>) => unknown, req: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      let md: Metadata;
      try {
        md = this.metadata();
      } catch (err) {
        reject(err);
        return;
      }
      fn(req, md, { deadline: new Date(Date.now() + this.timeoutMs) }, (err, res) => (err ? reject(fromGrpc(err, method)) : resolve(res)));
    });
  }

  close(): void {
    this.pods.close();
  }
}
