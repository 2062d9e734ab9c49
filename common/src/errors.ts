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

/** A command that failed: exit code and output kept, so callers decide on codes (see exec.ts). */
export class ExecError extends CodedError {
  constructor(
    readonly command: string,
    readonly args: readonly string[],
    /** null when the command did not run to an exit (not found, killed). */
    readonly exitCode: number | null,
    readonly stdout: string,
    readonly stderr: string,
    readonly reason: "exit" | "not-found" | "timeout" | "spawn" | "output-limit",
    context: Context = {},
  ) {
    const why = { exit: `exit ${exitCode}`, timeout: "timed out", "not-found": "not found", spawn: "could not start", "output-limit": "too much output" }[reason];
    const tail = stderr.trim().slice(0, 500);
    super(reason === "timeout" ? "DeadlineExceeded" : reason === "not-found" ? "NotFound" : "Internal",
      `${command} failed (${why})${tail ? `: ${tail}` : ""}`, { command, args: args.join(" "), exitCode: exitCode ?? undefined, ...context });
    this.name = "ExecError";
  }
}
