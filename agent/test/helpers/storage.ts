// The storage half of a test node: the LightningStor stand-in in-process and
// the real lightningstor-csi driver as a child process, its sockets under the
// agent's rootDir exactly where a production node has them. Also the host
// checks (mountinfo, losetup) and the sweep that cleans up after a failure.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
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

export async function startStorage(o: { dir: string; rootDir: string; nodeName: string; tokens: TokenStore; orgId: string; projectId: string }): Promise<Storage> {
  const csiToken = `csi-${o.nodeName}`;
  o.tokens.add(csiToken, { name: `system:node:${o.nodeName}`, kind: "node", orgId: o.orgId, projectId: o.projectId, nodeName: o.nodeName });
  const tokenFile = join(o.dir, "csi.token");
  writeFileSync(tokenFile, `${csiToken}\n`, { mode: 0o600 });
  const lightningstor = await startLightningStorStandIn({ tokens: o.tokens, dataDir: join(o.dir, "lightningstor"), address: `unix:${join(o.dir, "ls.sock")}` });
  let output = "";
  const driver = spawn(
    process.execPath,
    [
      "--import", "tsx", join(repo, "csi-driver/src/main.ts"),
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

export interface HostMount {
  mountPoint: string;
  source: string;
  fsType: string;
  options: string[];
}

const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));

/** Mounts at or under dir, read from /proc/self/mountinfo independently of the agent. */
export function mountsUnder(dir: string): HostMount[] {
  const out: HostMount[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const f = line.split(" ");
    const sep = f.indexOf("-");
    if (sep < 0) continue;
    const mp = unescape(f[4] ?? "");
    if (mp === dir || mp.startsWith(dir + "/")) out.push({ mountPoint: mp, source: f[sep + 2] ?? "", fsType: f[sep + 1] ?? "", options: (f[5] ?? "").split(",") });
  }
  return out;
}

/** Loop devices whose backing file is under dir, from losetup. */
export function loopsUnder(dir: string): { name: string; backFile: string }[] {
  const raw = execFileSync("losetup", ["--list", "--json", "--output", "NAME,BACK-FILE"], { encoding: "utf8" });
  if (!raw.trim()) return [];
  const parsed = JSON.parse(raw) as { loopdevices?: { name: string; "back-file": string | null }[] };
  return (parsed.loopdevices ?? []).map((l) => ({ name: l.name, backFile: (l["back-file"] ?? "").replace(/ \(deleted\)$/, "") })).filter((l) => l.backFile.startsWith(dir + "/"));
}

/** Unmounts (deepest first) and detaches whatever is left under dir; returns what it had to clean. */
export function sweep(dir: string): string[] {
  const cleaned: string[] = [];
  for (let i = 0; i < 10; i++) {
    const ms = mountsUnder(dir).sort((a, b) => b.mountPoint.length - a.mountPoint.length);
    if (!ms.length) break;
    for (const m of ms) {
      try {
        execFileSync("umount", ["-l", m.mountPoint]);
        cleaned.push(`umount ${m.mountPoint}`);
      } catch {
        // already gone
      }
    }
  }
  for (const l of loopsUnder(dir)) {
    try {
      execFileSync("losetup", ["-d", l.name]);
      cleaned.push(`losetup -d ${l.name}`);
    } catch {
      // already gone
    }
  }
  return cleaned;
}
