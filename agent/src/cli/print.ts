// kubectl-style table rendering.
import type { Node, Pod } from "@plasmacloud/proto/k8shost";

export function age(d: Date | undefined): string {
  if (!d) return "<unknown>";
  const s = Math.max(0, Math.floor((Date.now() - d.getTime()) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** What kubectl shows in STATUS: a waiting/terminated reason beats the phase. */
export function podStatusText(p: Pod): string {
  if (p.metadata?.deletionTimestamp) return "Terminating";
  const st = p.status;
  if (!st) return "Pending";
  if (st.reason) return st.reason;
  const init = initStatusText(p);
  if (init) return init;
  for (const c of st.containerStatuses) {
    if (c.state?.waiting?.reason && c.state.waiting.reason !== "ContainerCreating") return c.state.waiting.reason;
    if (c.state?.terminated?.reason && st.phase !== "Succeeded") return c.state.terminated.reason;
  }
  for (const c of st.containerStatuses) if (c.state?.waiting?.reason) return c.state.waiting.reason;
  return st.phase || "Pending";
}

/** kubectl's printPod for init containers: Init:N/M, Init:<reason>, Init:ExitCode:N; undefined once initialized. */
function initStatusText(p: Pod): string | undefined {
  const specs = p.spec?.initContainers ?? [];
  const statuses = p.status?.initContainerStatuses ?? [];
  if (p.status?.conditions.some((c) => c.type === "Initialized" && c.status === "True")) return undefined;
  for (const [i, c] of specs.entries()) {
    const s = statuses.find((x) => x.name === c.name);
    if (c.restartPolicy === "Always" && s?.started) continue;
    const t = s?.state?.terminated;
    if (t && t.exitCode === 0) continue;
    if (t) return t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
    const w = s?.state?.waiting?.reason;
    if (w && w !== "PodInitializing") return `Init:${w}`;
    return `Init:${i}/${specs.length}`;
  }
  return undefined;
}

export function podRow(p: Pod, wide: boolean): string[] {
  // Sidecars count beside the app containers, as kubectl 1.29+ shows them.
  const sidecars = new Set((p.spec?.initContainers ?? []).filter((c) => c.restartPolicy === "Always").map((c) => c.name));
  const inits = p.status?.initContainerStatuses ?? [];
  const cs = [...(p.status?.containerStatuses ?? []), ...inits.filter((c) => sidecars.has(c.name))];
  const ready = `${cs.filter((c) => c.ready).length}/${(p.spec?.containers.length ?? 0) + sidecars.size}`;
  const restarts = String([...cs, ...inits.filter((c) => !sidecars.has(c.name))].reduce((n, c) => n + c.restartCount, 0));
  const row = [p.metadata?.name ?? "", ready, podStatusText(p), restarts, age(p.metadata?.creationTimestamp)];
  if (wide) row.push(p.status?.podIp || "<none>", p.spec?.nodeName || "<none>", p.metadata?.namespace ?? "");
  return row;
}

export function nodeRow(n: Node): string[] {
  const ready = n.status?.conditions.find((c) => c.type === "Ready");
  const ip = n.status?.addresses.find((a) => a.type === "InternalIP")?.address ?? "";
  return [n.metadata?.name ?? "", ready?.status === "True" ? "Ready" : "NotReady", age(n.metadata?.creationTimestamp), n.status?.nodeInfo?.agentVersion ?? "", ip, n.status?.nodeInfo?.containerRuntimeVersion ?? ""];
}

export function table(rows: string[][], wide: boolean, header?: string[]): string {
  const head = header ?? ["NAME", "READY", "STATUS", "RESTARTS", "AGE", ...(wide ? ["IP", "NODE", "NAMESPACE"] : [])];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("   ").trimEnd()).join("\n") + "\n";
}
