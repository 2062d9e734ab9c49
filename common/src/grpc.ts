// gRPC status codes, the one map from them to error codes, and the one way a
// callback-style unary call (grpc-js generated clients) becomes a promise.
// No runtime import of grpc-js: novanet speaks gRPC over node:http2 and must
// not load it.
import { CodedError, type Context, type ErrorCode } from "./errors";

export const GrpcStatus = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16,
} as const;

const toCode: Record<number, ErrorCode> = {
  [GrpcStatus.CANCELLED]: "Unavailable",
  [GrpcStatus.INVALID_ARGUMENT]: "InvalidArgument",
  [GrpcStatus.DEADLINE_EXCEEDED]: "DeadlineExceeded",
  [GrpcStatus.NOT_FOUND]: "NotFound",
  [GrpcStatus.ALREADY_EXISTS]: "Conflict",
  [GrpcStatus.PERMISSION_DENIED]: "PermissionDenied",
  [GrpcStatus.RESOURCE_EXHAUSTED]: "ResourceExhausted",
  [GrpcStatus.FAILED_PRECONDITION]: "Conflict",
  // A concurrency abort (k8shost: resource version moved; CSI: another call on
  // the volume in flight). Retry at a higher level, as for a conflict.
  [GrpcStatus.ABORTED]: "Conflict",
  [GrpcStatus.OUT_OF_RANGE]: "OutOfRange",
  [GrpcStatus.UNIMPLEMENTED]: "Unimplemented",
  [GrpcStatus.UNAVAILABLE]: "Unavailable",
  [GrpcStatus.UNAUTHENTICATED]: "Unauthenticated",
};

export function codeFromGrpc(status: number): ErrorCode {
  return toCode[status] ?? "Internal";
}

/** A failed call: the mapped code for callers, the gRPC status kept for protocol-level decisions (retry on ABORTED). */
export class GrpcCallError extends CodedError {
  constructor(readonly method: string, readonly grpcCode: number, readonly details: string, context: Context = {}, options?: { cause?: unknown }) {
    super(codeFromGrpc(grpcCode), `${method}: ${details}`, { method, grpcCode, ...context }, options);
    this.name = "GrpcCallError";
  }
}

export function grpcCodeOf(err: unknown): number | undefined {
  return err instanceof GrpcCallError ? err.grpcCode : undefined;
}

/** What grpc-js hands a unary callback on failure (structurally: no grpc-js import). */
export interface ServiceErrorLike {
  code?: number;
  details?: string;
  message: string;
}

export type UnaryFn<Req, Res, Md> = (req: Req, md: Md, opts: { deadline: Date }, cb: (err: ServiceErrorLike | null, res: Res) => void) => unknown;

export interface UnaryOptions<Md> {
  metadata: Md;
  timeoutMs: number;
  /** Added to the error's context (an endpoint, a volume). */
  context?: Context;
}

/**
 * One unary call of a generated client method with a deadline; a failure
 * becomes GrpcCallError. `client` is the method's receiver (grpc-js methods need it).
 */
export function unary<Req, Res, Md>(client: object, method: string, fn: UnaryFn<Req, Res, Md>, req: Req, o: UnaryOptions<Md>): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    fn.call(client, req, o.metadata, { deadline: new Date(Date.now() + o.timeoutMs) }, (err, res) => {
      if (!err) return resolve(res);
      const code = typeof err.code === "number" ? err.code : GrpcStatus.UNKNOWN;
      reject(new GrpcCallError(method, code, err.details || err.message, o.context, { cause: err }));
    });
  });
}
