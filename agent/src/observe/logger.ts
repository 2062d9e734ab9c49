// Structured JSON logs (pino). Anything that could carry a credential is
// redacted at the logger, so a careless field can never print a token.
import pino, { type Logger } from "pino";

export type { Logger };

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { component: "k8shost-agent" },
      redact: {
        paths: ["token", "*.token", "authorization", "*.authorization", "password", "*.password", "auth", "*.auth", "*.registryToken"],
        censor: "[redacted]",
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
