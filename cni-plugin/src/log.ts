// The plugin's log: @plasmacloud/common/log's JSON lines (pino's format,
// credentials redacted). stdout belongs to the CNI result, so lines go to the
// config's logFile; without one (or if it cannot be written) only warnings
// and errors reach the runtime's stderr.
import { writeSync } from "node:fs";
import { createLogger, fdSink, fileSink, type Logger } from "@plasmacloud/common/log";

export type Log = Pick<Logger, "info" | "warn" | "error">;

function logTo(file: string | undefined): Log {
  const problems = createLogger({ component: "novanet", level: "warn", sink: file ? fileSink(file, fdSink(2)) : fdSink(2) });
  if (!file) return problems;
  const routine = createLogger({ component: "novanet", level: "info", sink: fileSink(file, () => undefined) });
  return { info: routine.info, warn: problems.warn, error: problems.error };
}

export let log: Log = logTo(undefined);

export function setLogFile(path: string | undefined): void {
  log = logTo(path);
}

const tracing = process.env.NOVANET_TRACE === "1";
/** NOVANET_TRACE=1: phase timings (ms since process start) on stderr, for tuning start-up. */
export function trace(phase: string): void {
  // writeSync, not process.stderr: under bun the stream alone costs milliseconds.
  if (tracing) writeSync(2, `novanet trace ${performance.now().toFixed(1)} ${phase}\n`);
}
