// Errors the agent reacts to by code, never by message text.
export type ErrorCode =
  | "InvalidArgument"
  | "NotFound"
  | "Conflict"
  | "Unavailable"
  | "Unauthenticated"
  | "PermissionDenied"
  | "DeadlineExceeded"
  | "TooOld"
  | "Internal";

export class AgentError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly context: Record<string, string | number | boolean | undefined> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "AgentError";
  }
}

export function errorCode(err: unknown): ErrorCode {
  return err instanceof AgentError ? err.code : "Internal";
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
