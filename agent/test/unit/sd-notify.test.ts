// systemd notifications: nothing without NOTIFY_SOCKET; READY=1 at start;
// WATCHDOG=1 only while the /healthz health is good; each change of health
// or of systemd-notify's own success logged once. A fake runner records what
// systemd-notify would have been asked to send.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ExecError, type Runner } from "@plasmacloud/common/exec";
import { createLogger } from "@plasmacloud/common/log";
import { startSystemdNotify, watchdogIntervalMs } from "../../src/observe/sd-notify";

function fixture(opts: { env?: NodeJS.ProcessEnv; fail?: () => boolean } = {}) {
  const sent: string[][] = [];
  const envs: NodeJS.ProcessEnv[] = [];
  const runner: Runner = async (cmd, args, o) => {
    assert.equal(cmd, "systemd-notify");
    sent.push([...args]);
    envs.push(o?.env ?? {});
    if (opts.fail?.()) throw new ExecError(cmd, args, 1, "", "Failed to notify init system: Connection refused", "exit");
    return { stdout: "", stderr: "" };
  };
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ component: "test", level: "info", sink: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
  let problems: string[] = [];
  const notifier = startSystemdNotify({
    health: { healthProblems: () => problems },
    log,
    runner,
    env: opts.env ?? { NOTIFY_SOCKET: "/run/systemd/notify" },
    pid: 4242,
  });
  return { sent, envs, lines, notifier, setProblems: (p: string[]) => (problems = p) };
}

test("without NOTIFY_SOCKET (not under systemd) systemd-notify never runs", async () => {
  const f = fixture({ env: { WATCHDOG_USEC: "30000000" } });
  await f.notifier.tick();
  f.notifier.stop();
  assert.deepEqual(f.sent, []);
});

test("READY=1 at start, then WATCHDOG=1 only while healthy", async () => {
  const f = fixture();
  assert.deepEqual(f.sent, [["READY=1", "STATUS=healthy"]]);
  assert.equal(f.envs[0]?.NOTIFY_SOCKET, "/run/systemd/notify", "systemd-notify finds the socket in its environment");
  await f.notifier.tick();
  assert.deepEqual(f.sent.at(-1), ["WATCHDOG=1", "STATUS=healthy"]);

  f.setProblems(["runtime relist last succeeded 75s ago"]);
  await f.notifier.tick();
  await f.notifier.tick();
  const unhealthy = f.sent.slice(2);
  assert.ok(unhealthy.every((a) => !a.includes("WATCHDOG=1")), "no ping while unhealthy: systemd restarts the agent");
  assert.deepEqual(unhealthy[0], ["STATUS=unhealthy: runtime relist last succeeded 75s ago"]);
  assert.equal(f.lines.filter((l) => l.msg === "unhealthy; not pinging systemd's watchdog").length, 1, "logged once per episode");

  f.setProblems([]);
  await f.notifier.tick();
  assert.deepEqual(f.sent.at(-1), ["WATCHDOG=1", "STATUS=healthy"]);
  assert.equal(f.lines.filter((l) => l.msg === "healthy again; pinging systemd's watchdog").length, 1);
  f.notifier.stop();
});

test("a failing systemd-notify is logged once, and once more when it works again", async () => {
  let failing = true;
  const f = fixture({ fail: () => failing });
  await f.notifier.tick();
  await f.notifier.tick();
  failing = false;
  await f.notifier.tick();
  f.notifier.stop();
  assert.equal(f.lines.filter((l) => l.level === 40).length, 1);
  assert.equal(f.lines.filter((l) => l.msg === "systemd-notify works again").length, 1);
  assert.equal(f.sent.length, 4, "READY and every round were still attempted");
});

test("rounds never pile up behind a slow systemd-notify", async () => {
  const f = fixture();
  const [a, b] = [f.notifier.tick(), f.notifier.tick()];
  assert.equal(a, b, "a tick while one runs joins it");
  await a;
  f.notifier.stop();
  assert.equal(f.sent.length, 2);
});

test("the watchdog interval is half of WATCHDOG_USEC, and only the process it names pings", () => {
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: "30000000" }, 7), 15_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "7" }, 7), 15_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "8" }, 7), undefined);
  assert.equal(watchdogIntervalMs({}, 7), undefined);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: "0" }, 7), undefined);
});
