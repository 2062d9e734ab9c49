// One test environment: a temp dir holding everything (LightningStor data,
// driver state, sockets, staging and target paths), the LightningStor
// stand-in, the driver, and a CSI client. close() stops it all and sweeps
// any mount or loop device left under the dir, even when the test failed.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger, type Logger } from "@plasmacloud/common/log";
import { TokenStore } from "../../../stand-ins/src/iam/tokens";
import { startLightningStorStandIn, type LightningStorStandIn } from "../../../stand-ins/src/lightningstor/server";
import { startDriver, type DriverConfig, type RunningDriver, DRIVER_NAME } from "../../src/driver";
import { CsiTestClient } from "./csi-client";
import { sweep } from "./host";

export const ORG = "org-a";
export const PROJECT = "proj-a";
export const NODE = "worker-1";
export const NODE_TOKEN = "node-token-worker-1";
export const OTHER_TENANT_TOKEN = "user-token-org-b";

export interface TestEnv {
  dir: string;
  tokens: TokenStore;
  standIn: LightningStorStandIn;
  driver: RunningDriver;
  config: DriverConfig;
  csi: CsiTestClient;
  /** A path under the env's dir (not created). */
  path(...parts: string[]): string;
  /** Restarts the driver process-equivalent (same config, fresh memory). */
  restartDriver(): Promise<void>;
  close(): Promise<void>;
}

export async function startEnv(opts: { log?: Logger; name?: string } = {}): Promise<TestEnv> {
  const dir = mkdtempSync(join(tmpdir(), `csi-${opts.name ?? "test"}-`));
  const tokens = new TokenStore()
    .add(NODE_TOKEN, { name: `system:node:${NODE}`, kind: "node", orgId: ORG, projectId: PROJECT, nodeName: NODE })
    .add(OTHER_TENANT_TOKEN, { name: "user:bob", kind: "user", orgId: "org-b", projectId: "proj-b" });
  const tokenFile = join(dir, "token");
  writeFileSync(tokenFile, NODE_TOKEN + "\n", { mode: 0o600 });
  let standIn: LightningStorStandIn | undefined;
  let driver: RunningDriver | undefined;
  let csi: CsiTestClient | undefined;
  const close = async (): Promise<void> => {
    csi?.close();
    await driver?.stop().catch(() => undefined);
    await standIn?.stop().catch(() => undefined);
    sweep(dir);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    standIn = await startLightningStorStandIn({ tokens, dataDir: join(dir, "lightningstor"), address: `unix:${join(dir, "ls.sock")}` });
    const config: DriverConfig = {
      driverName: DRIVER_NAME,
      nodeId: NODE,
      endpoint: join(dir, "plugins", DRIVER_NAME, "csi.sock"),
      registryDir: join(dir, "plugins_registry"),
      stateDir: join(dir, "state"),
      lightningstor: { address: standIn.address, tokenFile, tenant: { orgId: ORG, projectId: PROJECT } },
      maxVolumesPerNode: 64,
    };
    driver = await startDriver(config, { log: opts.log ?? silentLogger });
    csi = new CsiTestClient(config.endpoint);
    const env: TestEnv = {
      dir,
      tokens,
      standIn,
      driver,
      config,
      csi,
      path: (...parts) => join(dir, ...parts),
      async restartDriver() {
        csi?.close();
        await driver?.stop();
        driver = await startDriver(config, { log: opts.log ?? silentLogger });
        csi = new CsiTestClient(config.endpoint);
        env.driver = driver;
        env.csi = csi;
      },
      close,
    };
    return env;
  } catch (err) {
    await close();
    throw err;
  }
}
