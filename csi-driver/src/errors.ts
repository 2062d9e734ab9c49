// Errors carry the gRPC status code the CSI caller reacts to, plus context.
// Nobody decides anything from a message string.
import { status, type ServiceError, Metadata } from "@grpc/grpc-js";

export type Context = Record<string, string | number | boolean | undefined>;

export class CsiError extends Error {
  constructor(
    readonly code: status,
    message: string,
    readonly context: Context = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "CsiError";
  }
}

export const invalidArgument = (field: string, what = "is required", ctx: Context = {}): CsiError =>
  new CsiError(status.INVALID_ARGUMENT, `${field} ${what}`, { field, ...ctx });
export const notFound = (message: string, ctx: Context = {}): CsiError => new CsiError(status.NOT_FOUND, message, ctx);
export const failedPrecondition = (message: string, ctx: Context = {}): CsiError =>
  new CsiError(status.FAILED_PRECONDITION, message, ctx);
export const alreadyExists = (message: string, ctx: Context = {}): CsiError => new CsiError(status.ALREADY_EXISTS, message, ctx);
export const internal = (message: string, ctx: Context = {}, cause?: unknown): CsiError =>
  new CsiError(status.INTERNAL, message, ctx, { cause });

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function codeOf(err: unknown): status {
  return err instanceof CsiError ? err.code : status.INTERNAL;
}

/** The gRPC error sent to the caller: code and a message with its context. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  const code = codeOf(err);
  let details = errorMessage(err);
  if (err instanceof CsiError) {
    const ctx = Object.entries(err.context).filter(([, v]) => v !== undefined);
    if (ctx.length) details += ` (${ctx.map(([k, v]) => `${k}=${String(v)}`).join(", ")})`;
  }
  return { code, details, metadata: new Metadata() };
}
