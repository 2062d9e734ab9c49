// lightningstor-csi: parse flags, start the CSI server and the registration
// socket, stop cleanly on SIGTERM/SIGINT.
import { ConfigError, parseConfig, USAGE } from "./config";
import { startDriver } from "./driver";
import { createLogger } from "./log";

async function main(): Promise<void> {
  if (process.argv.includes("--help")) {
    console.log(USAGE);
    return;
  }
  let parsed;
  try {
    parsed = parseConfig(process.argv.slice(2), process.env);
  } catch (err) {
    console.error(`lightningstor-csi: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  }
  const log = createLogger(parsed.logLevel);
  const driver = await startDriver(parsed.config, { log });
  const stop = (signal: string): void => {
    log.info("stopping", { signal });
    void driver.stop().then(() => process.exit(0));
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  console.error(`lightningstor-csi: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
