// Minimal logger: one JSON line per event, to the config's logFile when set,
// otherwise to stderr (stdout belongs to the CNI result). Callers never pass
// secrets; the bearer token does not leave novanet/client.ts.
import { appendFileSync } from "node:fs";

let target: string | undefined;

export function setLogFile(path: string | undefined): void {
  target = path;
}

export function log(level: "info" | "warn" | "error", msg: string, fields: Record<string, unknown> = {}): void {
  const line = `${JSON.stringify({ ts: new Date().toISOString(), level, msg, pid: process.pid, ...fields })}\n`;
  if (target) {
    try {
      appendFileSync(target, line);
      return;
    } catch {
      // Fall through: a broken log file must not fail the verb.
    }
  }
  // Without a log file only problems are worth the runtime's stderr.
  if (level !== "info") process.stderr.write(line);
}

const tracing = process.env.NOVANET_TRACE === "1";
/** NOVANET_TRACE=1: phase timings (ms since process start) on stderr, for tuning start-up. */
export function trace(phase: string): void {
  if (tracing) process.stderr.write(`novanet trace ${performance.now().toFixed(1)} ${phase}\n`);
}
