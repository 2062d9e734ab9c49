// Logs a failing dependency once when it starts failing (and again if the
// kind of failure changes) and once when it recovers: a control plane that is
// down for an hour gives two log lines, not thousands.
import { errorCode, errorMessage } from "@plasmacloud/common/errors";
import type { Logger } from "@plasmacloud/common/log";

export class ProblemLog {
  private active = "";

  constructor(private readonly log: Logger, private readonly what: string) {}

  failed(err: unknown, retryInMs?: number): void {
    const code = errorCode(err);
    if (code === this.active) {
      this.log.debug({ code, err: errorMessage(err), retryInMs }, `${this.what} still failing`);
      return;
    }
    this.active = code;
    const hint =
      code === "Unauthenticated" ? " (check the token file)" : code === "PermissionDenied" ? " (the token's principal lacks permission)" : "";
    this.log.error({ code, err: errorMessage(err), retryInMs }, `${this.what} failed${hint}; retrying with backoff`);
  }

  ok(): void {
    if (this.active) this.log.info({ previous: this.active }, `${this.what} recovered`);
    this.active = "";
  }
}
