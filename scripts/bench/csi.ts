// CSI bench: one stage+publish+unpublish+unstage cycle through the driver's
// socket against the same kernel work done directly (losetup, mount, bind
// mount, umount x2, losetup -d), interleaved in one run; min / median / max of
// 20 each, and of the ratio within each round.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run as exec } from "@plasmacloud/common/exec";
import { silentLogger } from "@plasmacloud/common/log";
import { TokenStore } from "../../stand-ins/src/iam/tokens";
import { startLightningStorStandIn } from "../../stand-ins/src/lightningstor/server";
import { DRIVER_NAME, startDriver } from "../../csi-driver/src/driver";
import { CsiTestClient, mountCap } from "../../csi-driver/test/helpers/csi-client";
import { sweep } from "../../csi-driver/test/helpers/host";
import { median, mmm } from "./_stats";

const ROUNDS = 20;


export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bench-csi-"));
  const tokens = new TokenStore().add("bench", { name: "system:node:bench", kind: "node", orgId: "o", projectId: "p", nodeName: "bench" });
  writeFileSync(join(dir, "token"), "bench");
  const standIn = await startLightningStorStandIn({ tokens, dataDir: join(dir, "ls"), address: `unix:${join(dir, "ls.sock")}` });
  const driver = await startDriver(
    {
      driverName: DRIVER_NAME,
      nodeId: "bench",
      endpoint: join(dir, "plugins", DRIVER_NAME, "csi.sock"),
      registryDir: "",
      stateDir: join(dir, "state"),
      lightningstor: { address: standIn.address, tokenFile: join(dir, "token"), tenant: { orgId: "o", projectId: "p" } },
      maxVolumesPerNode: 16,
    },
    { log: silentLogger },
  );
  const csi = new CsiTestClient(driver.endpoint);
  try {
    const cap = mountCap("ext4");
    const size = 256n << 20n;
    const id = (await csi.createVolume({ name: "bench", capacityRange: { requiredBytes: size, limitBytes: 0n }, volumeCapabilities: [cap] })).volume?.volumeId ?? "";
    const staging = join(dir, "staging");
    const target = join(dir, "target");
    // First stage formats; format time is not part of the cycle measured.
    await csi.stage({ volumeId: id, stagingTargetPath: staging, volumeCapability: cap });
    await csi.unstage({ volumeId: id, stagingTargetPath: staging });

    // The direct path gets its own identically formatted file.
    const file = join(dir, "direct.img");
    await exec("truncate", ["-s", String(size), file]);
    await exec("mkfs.ext4", ["-q", "-E", "lazy_itable_init=1,lazy_journal_init=1", file]);
    const dStaging = join(dir, "d-staging");
    const dTarget = join(dir, "d-target");
    mkdirSync(dStaging);
    mkdirSync(dTarget);

    const viaDriver = async (): Promise<number> => {
      const t0 = performance.now();
      await csi.stage({ volumeId: id, stagingTargetPath: staging, volumeCapability: cap });
      await csi.publish({ volumeId: id, stagingTargetPath: staging, targetPath: target, volumeCapability: cap });
      await csi.unpublish({ volumeId: id, targetPath: target });
      await csi.unstage({ volumeId: id, stagingTargetPath: staging });
      return performance.now() - t0;
    };
    const direct = async (): Promise<number> => {
      const t0 = performance.now();
      const dev = (await exec("losetup", ["--find", "--show", file])).stdout.trim();
      await exec("mount", ["-t", "ext4", dev, dStaging]);
      await exec("mount", ["--bind", dStaging, dTarget]);
      await exec("umount", [dTarget]);
      await exec("umount", [dStaging]);
      await exec("losetup", ["--detach", dev]);
      return performance.now() - t0;
    };

    await viaDriver();
    await direct(); // warm caches on both paths
    const d: number[] = [];
    const r: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      d.push(await viaDriver());
      r.push(await direct());
    }
    console.log(`csi: stage+publish+unpublish+unstage, min / median / max of ${ROUNDS} rounds`);
    console.log(`  via the driver                      ${mmm(d, 1)} ms`);
    console.log(`  same steps direct (losetup, mount)  ${mmm(r, 1)} ms`);
    console.log(`  driver / direct, per round          ${mmm(d.map((x, i) => x / r[i]!), 2, "x")}   (medians: ${(median(d) / median(r)).toFixed(2)}x; target <= 1.5x)`);
  } finally {
    csi.close();
    await driver.stop();
    await standIn.stop();
    sweep(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}
