// The storage half of a test node: the LightningStor stand-in in-process and
// the real lightningstor-csi driver as a child process, its sockets under the
// agent's rootDir exactly where a production node has them. Also the host
// checks (mountinfo, losetup) and the sweep that cleans up after a failure.
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { credentials, Metadata } from "@grpc/grpc-js";
import { CreateVolumeRequest, VolumeServiceClient, type Volume } from "@plasmacloud/proto/lightningstor";
import type { TokenStore } from "../../../stand-ins/src/iam/tokens";
import { startLightningStorStandIn, type LightningStorStandIn } from "../../../stand-ins/src/lightningstor/server";

export const CSI_DRIVER = "csi.lightningstor.plasmacloud.io";
const repo = new URL("../../../", import.meta.url).pathname;

export interface Storage {
  lightningstor: LightningStorStandIn;
  driver: ChildProcess;
  driverOutput(): string;
  /** Creates a volume in the tenant of `token` (a user token of the TokenStore). */
  createVolume(name: string, sizeBytes: bigint, token: string): Promise<Volume>;
  stop(): Promise<void>;
}

export async function startStorage(o: { dir: string; rootDir: string; nodeName: string; tokens: TokenStore; orgId: string; projectId: string; executable?: string }): Promise<Storage> {
  const csiToken = `csi-${o.nodeName}`;
  o.tokens.add(csiToken, { name: `system:node:${o.nodeName}`, kind: "node", orgId: o.orgId, projectId: o.projectId, nodeName: o.nodeName });
  const tokenFile = join(o.dir, "csi.token");
  writeFileSync(tokenFile, `${csiToken}\n`, { mode: 0o600 });
  const lightningstor = await startLightningStorStandIn({ tokens: o.tokens, dataDir: join(o.dir, "lightningstor"), address: `unix:${join(o.dir, "ls.sock")}` });
  let output = "";
  // The sources through tsx, or a built executable (the installed one in the packaging test).
  const program = o.executable ? [o.executable] : [process.execPath, "--import", "tsx", join(repo, "csi-driver/src/main.ts")];
  const driver = spawn(
    program[0]!,
    [
      ...program.slice(1),
      "--node-id", o.nodeName,
      "--endpoint", join(o.rootDir, "plugins", CSI_DRIVER, "csi.sock"),
      "--registry-dir", join(o.rootDir, "plugins_registry"),
      "--state-dir", join(o.dir, "csi-state"),
      "--lightningstor-address", lightningstor.address,
      "--token-file", tokenFile,
      "--org-id", o.orgId,
      "--project-id", o.projectId,
      "--log-level", "debug",
    ],
    { cwd: repo, stdio: ["ignore", "pipe", "pipe"] },
  );
  driver.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  driver.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const client = new VolumeServiceClient(lightningstor.address, credentials.createInsecure());
  return {
    lightningstor,
    driver,
    driverOutput: () => output,
    createVolume: (name, sizeBytes, token) =>
      new Promise((resolve, reject) => {
        const md = new Metadata();
        md.set("authorization", `Bearer ${token}`);
        client.createVolume(CreateVolumeRequest.fromPartial({ name, sizeBytes }), md, (err, v) => (err ? reject(err) : resolve(v)));
      }),
    async stop() {
      client.close();
      if (driver.exitCode === null && driver.signalCode === null) {
        const exited = new Promise((r) => driver.once("exit", r));
        driver.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (driver.exitCode === null && driver.signalCode === null) driver.kill("SIGKILL");
      }
      await lightningstor.stop();
    },
  };
}

// Mount-table and loop-device checks are the CSI driver tests' own helpers.
export { loopsUnder, mountsUnder, sweep, type HostMount } from "../../../csi-driver/test/helpers/host";
