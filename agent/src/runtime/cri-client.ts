// A thin promise wrapper over the generated CRI clients: deadlines, metrics,
// and CRI status codes mapped to AgentError codes.
import { credentials, Metadata, status, type ServiceError, type CallOptions } from "@grpc/grpc-js";
import { ImageServiceClient, RuntimeServiceClient } from "@plasmacloud/proto/cri";
import { AgentError, type ErrorCode } from "../errors";
import type { AgentMetrics } from "../observe/metrics";

const codes: Partial<Record<number, ErrorCode>> = {
  [status.NOT_FOUND]: "NotFound",
  [status.INVALID_ARGUMENT]: "InvalidArgument",
  [status.UNAVAILABLE]: "Unavailable",
  [status.DEADLINE_EXCEEDED]: "DeadlineExceeded",
  [status.ALREADY_EXISTS]: "Conflict",
  [status.FAILED_PRECONDITION]: "Conflict",
};

type Cb<R> = (err: ServiceError | null, res: R) => void;
// The generated clients are overloaded; inference picks the last (full) form.
type Unary<Req, Res> = (req: Req, md: Metadata, opts: Partial<CallOptions>, cb: Cb<Res>) => unknown;

export class CriClient {
  readonly runtime: RuntimeServiceClient;
  readonly images: ImageServiceClient;

  constructor(endpoint: string, private readonly timeoutMs: number, private readonly metrics: AgentMetrics) {
    // grpc-js takes "unix:///abs/path" as is.
    const opts = { "grpc.max_receive_message_length": 16 << 20 };
    this.runtime = new RuntimeServiceClient(endpoint, credentials.createInsecure(), opts);
    this.images = new ImageServiceClient(endpoint, credentials.createInsecure(), { ...opts, channelOverride: this.runtime.getChannel() });
  }

  call<Req, Res>(method: string, fn: Unary<Req, Res>, req: Req, timeoutMs = this.timeoutMs): Promise<Res> {
    const end = this.metrics.criLatency.startTimer({ method });
    return new Promise<Res>((resolve, reject) => {
      fn(req, new Metadata(), { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => {
        end();
        if (!err) return resolve(res);
        const code = codes[err.code] ?? "Internal";
        this.metrics.criErrors.inc({ method, code });
        reject(new AgentError(code, `CRI ${method}: ${err.details || err.message}`, { method, grpcCode: err.code }, { cause: err }));
      });
    });
  }

  close(): void {
    this.runtime.close();
  }
}
