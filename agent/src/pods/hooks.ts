// Lifecycle hooks as the kubelet's handlerRunner runs them: exec through CRI
// ExecSync, httpGet (only a transport error fails it: the kubelet ignores the
// status code of a hook's answer), sleep. tcpSocket is refused at validation;
// met here anyway, it fails as the kubelet's "invalid handler".
import { errorMessage } from "@plasmacloud/common/errors";
import type { Container, LifecycleHandler, Pod } from "@plasmacloud/proto/k8shost";
import type { Exec } from "../probes/handlers";
import { httpExchange } from "../probes/http";

export interface HookRun {
  pod: Pod;
  container: Container;
  containerId: string;
  podIP: string;
  /** 0 = no bound (postStart); preStop gets what is left of the grace period. */
  timeoutMs: number;
  /** Aborted when the pod is deleted while the hook runs. */
  signal?: AbortSignal;
}

/** The kubelet's format.Pod: name_namespace(uid). */
export function podRef(pod: Pod): string {
  const m = pod.metadata!;
  return `${m.name}_${m.namespace || "default"}(${m.uid})`;
}

/** Runs the handler; undefined when it succeeded, else the kubelet's failure message. */
export async function runHook(h: LifecycleHandler, r: HookRun, exec: Exec): Promise<string | undefined> {
  const where = `for Container "${r.container.name}" in Pod "${podRef(r.pod)}"`;
  if (h.exec) {
    const cmd = h.exec.command;
    try {
      const res = await exec(r.containerId, cmd, Math.ceil(r.timeoutMs / 1000), r.signal);
      if (res.exitCode === 0) return undefined;
      const output = Buffer.concat([res.stdout, res.stderr]).toString("utf8");
      const err = `command '${cmd.join(" ")}' exited with ${res.exitCode}: ${res.stderr.toString("utf8")}`;
      return `Exec lifecycle hook ([${cmd.join(" ")}]) ${where} failed - error: ${err}, message: ${JSON.stringify(output)}`;
    } catch (err) {
      return `Exec lifecycle hook ([${cmd.join(" ")}]) ${where} failed - error: ${errorMessage(err)}, message: ""`;
    }
  }
  if (h.httpGet) {
    try {
      if (!h.httpGet.host && !r.podIP) throw new Error("failed to find networking container: the pod has no IP");
      await httpExchange(h.httpGet, { podIP: r.podIP, container: r.container, timeoutMs: r.timeoutMs, purpose: "lifecycle", signal: r.signal });
      return undefined;
    } catch (err) {
      return `HTTP lifecycle hook (${h.httpGet.path}) ${where} failed - error: ${errorMessage(err)}`;
    }
  }
  if (h.sleep) {
    const secs = Number(h.sleep.seconds);
    const ms = r.timeoutMs > 0 ? Math.min(secs * 1000, r.timeoutMs) : secs * 1000;
    const finished = await sleepUnless(ms, r.signal);
    return finished ? undefined : `Sleep lifecycle hook (${secs}) ${where} failed - error: container terminated before sleep hook finished`;
  }
  return `Cannot run handler: invalid handler ${where}`;
}

/** Resolves true after `ms`, false as soon as the signal aborts. */
function sleepUnless(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(t);
      signal?.removeEventListener("abort", onAbort);
      resolve(ok);
    };
    const onAbort = (): void => done(false);
    const t = setTimeout(() => done(true), ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
