// systemd's service protocol for the agent's unit (Type=notify, WatchdogSec=):
// READY=1 once the agent serves, then WATCHDOG=1 every half watchdog interval
// while the health /healthz reports is good. A wedged event loop or a relist
// that stopped succeeding stops the pings, and systemd restarts the agent
// (pods keep running: the unit has KillMode=process).
// Node has no AF_UNIX datagram sockets, so the messages go through
// systemd-notify, which sends them in the agent's name (its parent's pid) and
// waits until systemd has read them (a barrier message from its own pid: hence
// NotifyAccess=all). Without NOTIFY_SOCKET (not under systemd) nothing runs.
import { run, type Runner } from "@plasmacloud/common/exec";
import { errorMessage } from "@plasmacloud/common/errors";
import type { Logger } from "@plasmacloud/common/log";
import type { HealthSource } from "./http";

export interface NotifyOptions {
  health: HealthSource;
  log: Logger;
  /** Default: this process's environment (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID). */
  env?: NodeJS.ProcessEnv;
  runner?: Runner;
  pid?: number;
}

export interface SystemdNotifier {
  /** One watchdog round (the timer calls it; tests call it directly). */
  tick(): Promise<void>;
  stop(): void;
}

/** How often to ping: half of WATCHDOG_USEC (sd_watchdog_enabled(3)); undefined when no watchdog is ours. */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  // Set for another process (a parent that exported its own watchdog to us).
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

export function startSystemdNotify(o: NotifyOptions): SystemdNotifier {
  const env = o.env ?? process.env;
  if (!env.NOTIFY_SOCKET) return { tick: async () => undefined, stop: () => undefined };
  const runner = o.runner ?? run;
  let failing = false; // systemd-notify itself failing: logged once per episode
  const send = async (...assignments: string[]): Promise<void> => {
    try {
      await runner("systemd-notify", assignments, { env: { ...env, LC_ALL: "C" }, timeoutMs: 10_000 });
      if (failing) o.log.info({}, "systemd-notify works again");
      failing = false;
    } catch (err) {
      if (!failing) o.log.warn({ err: errorMessage(err) }, "systemd-notify failed; systemd may consider the agent hung");
      failing = true;
    }
  };

  let unhealthy = false;
  let inFlight: Promise<void> | undefined;
  const round = async (): Promise<void> => {
    const problems = o.health.healthProblems();
    if (problems.length === 0) {
      if (unhealthy) o.log.info({}, "healthy again; pinging systemd's watchdog");
      unhealthy = false;
      await send("WATCHDOG=1", "STATUS=healthy");
      return;
    }
    // No ping: systemd restarts the agent once WatchdogSec passes without one.
    if (!unhealthy) o.log.warn({ problems }, "unhealthy; not pinging systemd's watchdog");
    unhealthy = true;
    await send(`STATUS=unhealthy: ${problems.join("; ")}`);
  };
  const tick = (): Promise<void> => {
    // A slow systemd-notify never piles up behind itself.
    inFlight ??= round().finally(() => (inFlight = undefined));
    return inFlight;
  };

  void send("READY=1", "STATUS=healthy");
  const every = watchdogIntervalMs(env, o.pid ?? process.pid);
  const timer = every === undefined ? undefined : setInterval(() => void tick(), every);
  timer?.unref();
  return { tick, stop: () => clearInterval(timer) };
}
