// Errors carry the gRPC status code the CSI caller reacts to, plus context:
// a CSI server answers with gRPC status codes, that is its protocol. Nobody
// decides anything from a message string. Failures of the shared helpers (a
// command that failed) become a status here, in this one place.
import { status, type ServiceError, Metadata } from "@grpc/grpc-js";
import { errorMessage, type Context } from "@plasmacloud/common/errors";
import { ExecError } from "@plasmacloud/common/exec";

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

/**
 * The status a failure answers with. Anything that is not a CsiError is the
 * driver's own failure: INTERNAL. That includes a failed command whatever its
 * ExecError code ("NotFound" there is a missing tool, not a missing volume).
 */
export function codeOf(err: unknown): status {
  return err instanceof CsiError ? err.code : status.INTERNAL;
}

function contextOf(err: unknown): Context {
  if (err instanceof CsiError) return err.context;
  // Never the arguments: mount's carry the mount flags, which may hold secrets.
  if (err instanceof ExecError) return { command: err.command, exitCode: err.exitCode ?? undefined };
  return {};
}

/** The gRPC error sent to the caller: code and a message with its context. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  let details = errorMessage(err);
  const ctx = Object.entries(contextOf(err)).filter(([, v]) => v !== undefined);
  if (ctx.length) details += ` (${ctx.map(([k, v]) => `${k}=${String(v)}`).join(", ")})`;
  return { code: codeOf(err), details, metadata: new Metadata() };
}
