// Adapts async handlers to grpc-js: errors become status codes, and each call
// is logged by method, volume id, code and duration (never request bodies:
// they carry secrets and mount flags).
import { status, type handleUnaryCall } from "@grpc/grpc-js";
import { codeOf, CsiError, errorMessage, toServiceError } from "./errors";
import type { Logger } from "./log";

function volumeIdOf(req: unknown): string | undefined {
  if (req && typeof req === "object" && "volumeId" in req && typeof req.volumeId === "string") return req.volumeId || undefined;
  return undefined;
}

export function unary<Req, Res>(log: Logger, method: string, fn: (req: Req) => Promise<Res>): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const started = performance.now();
    const volumeId = volumeIdOf(call.request);
    fn(call.request).then(
      (res) => {
        log.debug("rpc", { method, volumeId, code: "OK", ms: Math.round(performance.now() - started) });
        callback(null, res);
      },
      (err: unknown) => {
        const code = codeOf(err);
        const fields = { method, volumeId, code: status[code], ms: Math.round(performance.now() - started), error: errorMessage(err) };
        if (code === status.INTERNAL || code === status.UNKNOWN) log.error("rpc failed", fields);
        else log.info("rpc refused", fields);
        callback(toServiceError(err), null);
      },
    );
  };
}

export function unimplemented<Req, Res>(log: Logger, method: string): handleUnaryCall<Req, Res> {
  return unary<Req, Res>(log, method, async () => {
    throw new CsiError(status.UNIMPLEMENTED, `${method} is not implemented by this driver`);
  });
}
