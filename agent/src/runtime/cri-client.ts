// The generated CRI clients on one channel, with what is CRI's own: each
// call's latency and failures counted in the agent's metrics. Calls and error
// codes are the shared unary/GrpcCallError.
import { credentials, Metadata } from "@grpc/grpc-js";
import { errorCode } from "@plasmacloud/common/errors";
import { unary, type UnaryFn } from "@plasmacloud/common/grpc";
import { ImageServiceClient, RuntimeServiceClient } from "@plasmacloud/proto/cri";
import type { AgentMetrics } from "../observe/metrics";

export class CriClient {
  readonly runtime: RuntimeServiceClient;
  readonly images: ImageServiceClient;

  constructor(endpoint: string, private readonly timeoutMs: number, private readonly metrics: AgentMetrics) {
    // grpc-js takes "unix:///abs/path" as is.
    const opts = { "grpc.max_receive_message_length": 16 << 20 };
    this.runtime = new RuntimeServiceClient(endpoint, credentials.createInsecure(), opts);
    this.images = new ImageServiceClient(endpoint, credentials.createInsecure(), { ...opts, channelOverride: this.runtime.getChannel() });
  }

  /** One call of a bound client method; errors read "CRI <method>: ...". */
  async call<Req, Res>(method: string, fn: UnaryFn<Req, Res, Metadata>, req: Req, timeoutMs = this.timeoutMs): Promise<Res> {
    const end = this.metrics.criLatency.startTimer({ method });
    try {
      return await unary(this, `CRI ${method}`, fn, req, { metadata: new Metadata(), timeoutMs });
    } catch (err) {
      this.metrics.criErrors.inc({ method, code: errorCode(err) });
      throw err;
    } finally {
      end();
    }
  }

  close(): void {
    this.runtime.close();
  }
}
