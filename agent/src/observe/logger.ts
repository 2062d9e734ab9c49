// The agent's structured JSON logs: the shared logger (pino's line format,
// credentials redacted at any depth) with the agent's component name.
import { createLogger as create, type Level, type Logger, type Sink } from "@plasmacloud/common/log";

export function createLogger(level: Level, sink?: Sink): Logger {
  return create({ component: "k8shost-agent", level, sink });
}
