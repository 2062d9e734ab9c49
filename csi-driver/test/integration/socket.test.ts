// The CSI socket's permissions, stale-socket handling, and registration the
// way the node agent will use it (GetInfo, then NotifyRegistrationStatus).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { silentLogger } from "@plasmacloud/common/log";
import { startEnv, type TestEnv } from "../helpers/env";
import { CsiTestClient, RegistrationTestClient } from "../helpers/csi-client";
import { startDriver } from "../../src/driver";
import { CsiError } from "../../src/errors";

describe("sockets and registration", () => {
  let env: TestEnv;
  before(async () => {
    env = await startEnv({ name: "socket" });
  });
  after(async () => {
    await env?.close();
  });

  test("the CSI socket is 0660 inside a 0750 directory", () => {
    const sock = lstatSync(env.config.endpoint);
    assert.ok(sock.isSocket());
    assert.equal(sock.mode & 0o777, 0o660);
    assert.equal(statSync(join(env.config.endpoint, "..")).mode & 0o777, 0o750);
  });

  test("registration: GetInfo names the driver and its endpoint; the agent's status is recorded", async () => {
    const regSock = join(env.config.registryDir, "csi.lightningstor.plasmacloud.io-reg.sock");
    assert.ok(lstatSync(regSock).isSocket());
    const reg = new RegistrationTestClient(regSock);
    try {
      const info = await reg.getInfo();
      assert.deepEqual(info, {
        type: "CSIPlugin",
        name: "csi.lightningstor.plasmacloud.io",
        endpoint: env.config.endpoint,
        supportedVersions: ["1.0.0"],
      });
      assert.equal(env.driver.registration?.lastStatus(), undefined);
      await reg.notify(true);
      assert.deepEqual(env.driver.registration?.lastStatus(), { registered: true, error: "" });
      await reg.notify(false, "version mismatch");
      assert.deepEqual(env.driver.registration?.lastStatus(), { registered: false, error: "version mismatch" });
    } finally {
      reg.close();
    }
  });

  test("a stale socket is replaced at start; a live one is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "csi-stale-"));
    try {
      const endpoint = join(dir, "plugin", "csi.sock");
      mkdirSync(join(dir, "plugin"));
      // A process that dies without unlinking its socket leaves a stale one.
      const r = spawnSync(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(endpoint)}, () => process.exit(0))`]);
      assert.equal(r.status, 0);
      assert.ok(lstatSync(endpoint).isSocket());
      const cfg = { ...env.config, endpoint, registryDir: "", stateDir: join(dir, "state") };
      const d = await startDriver(cfg, { log: silentLogger });
      const c = new CsiTestClient(endpoint);
      try {
        assert.equal((await c.getPluginInfo()).name, "csi.lightningstor.plasmacloud.io");
        await assert.rejects(startDriver(cfg, { log: silentLogger }), (e: unknown) => e instanceof CsiError && e.code === status.FAILED_PRECONDITION && e.context.path === endpoint);
      } finally {
        c.close();
        await d.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the lightningstor-csi and stand-in commands", () => {
  test("both start from flags, serve, register, and stop cleanly on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "csi-main-"));
    const repo = new URL("../../..", import.meta.url).pathname;
    const procs: ChildProcess[] = [];
    const waitFor = async (p: string): Promise<void> => {
      for (let i = 0; i < 200 && !existsSync(p); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(existsSync(p), `${p} appeared`);
    };
    const exited = (c: ChildProcess) => new Promise<number | null>((r) => c.once("exit", (code) => r(code)));
    try {
      const lsSock = join(dir, "ls.sock");
      const ls = spawn(process.execPath, ["--import", "tsx", "stand-ins/src/lightningstor/main.ts", "--listen", `unix:${lsSock}`, "--data-dir", join(dir, "ls"), "--token", "tok=node:w9:org:proj"], { cwd: repo, stdio: "ignore" });
      procs.push(ls);
      await waitFor(lsSock);
      writeFileSync(join(dir, "token"), "tok\n");
      const endpoint = join(dir, "plugins", "csi.lightningstor.plasmacloud.io", "csi.sock");
      const registry = join(dir, "plugins_registry");
      const drv = spawn(process.execPath, ["--import", "tsx", "csi-driver/src/main.ts",
        "--endpoint", `unix://${endpoint}`, "--node-id", "w9", "--lightningstor-address", `unix:${lsSock}`,
        "--token-file", join(dir, "token"), "--org-id", "org", "--project-id", "proj",
        "--state-dir", join(dir, "state"), "--registry-dir", registry, "--log-level", "warn"], { cwd: repo, stdio: "ignore" });
      procs.push(drv);
      const regSock = join(registry, "csi.lightningstor.plasmacloud.io-reg.sock");
      await waitFor(regSock);
      const reg = new RegistrationTestClient(regSock);
      const info = await reg.getInfo();
      reg.close();
      assert.equal(info.endpoint, endpoint);
      const c = new CsiTestClient(info.endpoint);
      assert.equal((await c.nodeInfo()).nodeId, "w9");
      assert.equal((await c.probe()).ready, true, "the driver reaches the stand-in with the token from the file");
      c.close();
      const drvExit = exited(drv);
      drv.kill("SIGTERM");
      assert.equal(await drvExit, 0);
      assert.equal(existsSync(endpoint), false, "CSI socket removed on stop");
      assert.equal(existsSync(regSock), false, "registration socket removed on stop");
      const lsExit = exited(ls);
      ls.kill("SIGTERM");
      assert.equal(await lsExit, 0);
    } finally {
      for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
