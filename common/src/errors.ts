// The error every node program throws: a code the caller reacts to (never the
// message text) and context that names what was involved.
export type ErrorCode =
  | "InvalidArgument"
  | "NotFound"
  | "Conflict"
  | "Unavailable"
  | "Unauthenticated"
  | "PermissionDenied"
  | "DeadlineExceeded"
  | "ResourceExhausted"
  | "OutOfRange"
  | "Unimplemented"
  | "Internal";

export type Context = Record<string, string | number | boolean | undefined>;

export class CodedError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly context: Context = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "CodedError";
  }
}

export function errorCode(err: unknown): ErrorCode {
  return err instanceof CodedError ? err.code : "Internal";
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
