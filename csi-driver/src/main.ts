// lightningstor-csi: parse flags, start the CSI server and the registration
// socket, stop cleanly on SIGTERM/SIGINT.
import { errorMessage } from "@plasmacloud/common/errors";
import { ConfigError, parseConfig, USAGE } from "./config";
import { DRIVER_VERSION, driverLogger, startDriver } from "./driver";

async function main(): Promise<void> {
  if (process.argv.includes("--version")) {
    console.log(`lightningstor-csi ${DRIVER_VERSION} (node ${process.version})`);
    return;
  }
  if (process.argv.includes("--help")) {
    console.log(USAGE);
    return;
  }
  let parsed;
  try {
    parsed = parseConfig(process.argv.slice(2), process.env);
  } catch (err) {
    console.error(`lightningstor-csi: ${errorMessage(err)}\n\n${USAGE}`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  }
  const log = driverLogger(parsed.logLevel);
  const driver = await startDriver(parsed.config, { log });
  const stop = (signal: string): void => {
    log.info({ signal }, "stopping");
    void driver.stop().then(() => process.exit(0));
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  console.error(`lightningstor-csi: ${errorMessage(err)}`);
  process.exit(1);
});
