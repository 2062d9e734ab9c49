// Adapts async handlers to grpc-js servers: errors become status codes, and
// each call is logged by method, volume id, code and duration (never request
// bodies: they carry secrets and mount flags). The client side of gRPC (calls
// to LightningStor) is @plasmacloud/common/grpc's `unary`.
import { status, type handleUnaryCall } from "@grpc/grpc-js";
import { errorMessage } from "@plasmacloud/common/errors";
import type { Logger } from "@plasmacloud/common/log";
import { codeOf, CsiError, toServiceError } from "./errors";

function volumeIdOf(req: unknown): string | undefined {
  if (req && typeof req === "object" && "volumeId" in req && typeof req.volumeId === "string") return req.volumeId || undefined;
  return undefined;
}

export function handler<Req, Res>(log: Logger, method: string, fn: (req: Req) => Promise<Res>): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const started = performance.now();
    const volumeId = volumeIdOf(call.request);
    fn(call.request).then(
      (res) => {
        log.debug({ method, volumeId, code: "OK", ms: Math.round(performance.now() - started) }, "rpc");
        callback(null, res);
      },
      (err: unknown) => {
        const code = codeOf(err);
        const fields = { method, volumeId, code: status[code], ms: Math.round(performance.now() - started), error: errorMessage(err) };
        if (code === status.INTERNAL || code === status.UNKNOWN) log.error(fields, "rpc failed");
        else log.info(fields, "rpc refused");
        callback(toServiceError(err), null);
      },
    );
  };
}

export function unimplemented<Req, Res>(log: Logger, method: string): handleUnaryCall<Req, Res> {
  return handler<Req, Res>(log, method, async () => {
    throw new CsiError(status.UNIMPLEMENTED, `${method} is not implemented by this driver`);
  });
}
