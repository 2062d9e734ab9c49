// The container log manager loop (the kubelet's containerLogManager): every
// interval, each running container's live log is stat'ed and rotated when it
// has grown past the limit. Idle it costs a stat per running container (the
// running ones from the pod relist's recent view, else a relist of its own);
// no log file is read. Only running containers rotate: an exited one writes
// no more, and an empty live file would serve no reader.
import { errorMessage } from "@plasmacloud/common/errors";
import type { Logger } from "@plasmacloud/common/log";
import { sleep } from "../retry/backoff";
import { ProblemLog } from "../retry/problem";
import { containerLogFile } from "../runtime/logs";
import type { PodRuntime, PodRuntimeState } from "../runtime/types";
import { rotateIfDue, type LogReopener, type RotationPolicy } from "./rotate";

/** A running container and its live log file. */
export interface RunningLog {
  containerId: string;
  path: string;
}

export interface LogManagerDeps {
  /** The running containers of this node with their live log files. */
  running(): Promise<RunningLog[]>;
  runtime: LogReopener;
  policy: RotationPolicy;
  intervalMs: number;
  log: Logger;
}

/**
 * Running containers with their files in the runtime's log layout: from the
 * pod relist's cache when it is recent (`cached`), else from a relist of its own.
 */
export async function runningLogs(runtime: Pick<PodRuntime, "relist">, podLogsDir: string, cached?: () => Map<string, PodRuntimeState> | undefined): Promise<RunningLog[]> {
  const out: RunningLog[] = [];
  for (const state of (cached?.() ?? (await runtime.relist())).values()) {
    for (const c of state.containers) {
      const sandbox = c.state === "running" ? state.sandboxes.find((s) => s.id === c.sandboxId) : undefined;
      if (sandbox) out.push({ containerId: c.id, path: containerLogFile(podLogsDir, sandbox.pod, c.name, c.attempt) });
    }
  }
  return out;
}

export class ContainerLogManager {
  private readonly halt = new AbortController();
  private readonly listProblem: ProblemLog;
  /** The last failure logged per container: a failure that repeats every round is logged once. */
  private readonly failing = new Map<string, string>();

  constructor(private readonly d: LogManagerDeps) {
    this.listProblem = new ProblemLog(d.log, "listing running containers for log rotation");
  }

  async run(): Promise<void> {
    while (!this.halt.signal.aborted) {
      await this.rotateAll();
      await sleep(this.d.intervalMs, this.halt.signal);
    }
  }

  stop(): void {
    this.halt.abort();
  }

  /** One round over every running container; a failure of one never holds back the others. */
  async rotateAll(now: () => Date = () => new Date()): Promise<void> {
    let running: RunningLog[];
    try {
      running = await this.d.running();
      this.listProblem.ok();
    } catch (err) {
      this.listProblem.failed(err, this.d.intervalMs);
      return;
    }
    const seen = new Set<string>();
    for (const c of running) {
      if (this.halt.signal.aborted) return;
      seen.add(c.containerId);
      try {
        if (await rotateIfDue(c.containerId, c.path, this.d.policy, this.d.runtime, now())) this.d.log.debug({ containerId: c.containerId, path: c.path }, "container log rotated");
        if (this.failing.delete(c.containerId)) this.d.log.info({ containerId: c.containerId, path: c.path }, "container log rotation recovered");
      } catch (err) {
        const msg = errorMessage(err);
        if (this.failing.get(c.containerId) !== msg) this.d.log.warn({ containerId: c.containerId, path: c.path, err: msg }, "container log rotation failed; retrying next round");
        this.failing.set(c.containerId, msg);
      }
    }
    for (const id of this.failing.keys()) if (!seen.has(id)) this.failing.delete(id);
  }
}
