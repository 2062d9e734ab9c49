// One run of a probe's handler against one container, as the kubelet's
// prober.runProbe: exec through CRI ExecSync with the probe's timeout,
// httpGet/tcpSocket/grpc to the pod IP (or the action's host).
import { errorCode, errorMessage } from "@plasmacloud/common/errors";
import type { Container, Probe } from "@plasmacloud/proto/k8shost";
import type { PodRuntime } from "../runtime/types";
import { grpcHealth } from "./grpc";
import { httpGet } from "./http";
import { ProbeError, resolvePort, type ProbeOutcome } from "./spec";
import { tcpConnect } from "./tcp";

export type Exec = PodRuntime["execSync"];

export interface ProbeTarget {
  container: Container;
  containerId: string;
  podIP: string;
}

/** Output the kubelet would put in an event is bounded; a chatty probe command is not an event. */
const MAX_OUTPUT = 1024;

export async function runProbe(p: Probe, t: ProbeTarget, timeoutMs: number, exec: Exec): Promise<ProbeOutcome> {
  const out = await dispatch(p, t, timeoutMs, exec);
  return out.output.length > MAX_OUTPUT ? { ...out, output: `${out.output.slice(0, MAX_OUTPUT)}...` } : out;
}

async function dispatch(p: Probe, t: ProbeTarget, timeoutMs: number, exec: Exec): Promise<ProbeOutcome> {
  if (p.exec) return execProbe(p.exec.command, t.containerId, timeoutMs, exec);
  if (p.httpGet) {
    if (!p.httpGet.host && !t.podIP) throw new ProbeError("Unavailable", "the pod has no IP yet");
    return httpGet(p.httpGet, { podIP: t.podIP, container: t.container, timeoutMs, purpose: "probe" });
  }
  if (p.tcpSocket) {
    const host = p.tcpSocket.host || t.podIP;
    if (!host) throw new ProbeError("Unavailable", "the pod has no IP yet");
    return tcpConnect(host, resolvePort(p.tcpSocket.port, t.container), timeoutMs);
  }
  if (p.grpc) {
    if (!t.podIP) throw new ProbeError("Unavailable", "the pod has no IP yet");
    return grpcHealth(t.podIP, p.grpc.port, p.grpc.service ?? "", timeoutMs);
  }
  throw new ProbeError("InvalidArgument", "probe has no handler");
}

/**
 * Exit 0 is a success, any other exit a failure with the command's output; a
 * timeout is a failure too (the kubelet's ExecProbeTimeout). Anything else
 * (the container is gone, the runtime is down) is an error: nothing is counted.
 */
async function execProbe(cmd: string[], containerId: string, timeoutMs: number, exec: Exec): Promise<ProbeOutcome> {
  try {
    const r = await exec(containerId, cmd, timeoutMs / 1000);
    const output = Buffer.concat([r.stdout, r.stderr]).toString("utf8");
    return { result: r.exitCode === 0 ? "success" : "failure", output };
  } catch (err) {
    if (errorCode(err) === "DeadlineExceeded") return { result: "failure", output: `command "${cmd.join(" ")}" timed out` };
    throw new ProbeError(errorCode(err), errorMessage(err), {}, { cause: err });
  }
}
