// `pods describe NAME`: kubectl describe pod's layout (pkg/describe), from the
// pod and its events as the control plane has them. Rendering is a pure
// function of (pod, events, now) so it is tested without a cluster; the lines
// go through a Go-tabwriter equivalent so columns align as kubectl's do.
import { Command } from "commander";
import { GetPodRequest, ListEventsRequest, type Container, type ContainerState, type ContainerStatus, type Event, type Pod, type Probe, type Volume } from "@plasmacloud/proto/k8shost";
import { errorMessage } from "@plasmacloud/common/errors";
import { qosClass } from "../resources/qos";
import { connect, withConn, type ConnOpts } from "./conn";

/** kubectl's duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const sec = Math.floor(ms / 1000);
  if (sec < -1) return "<invalid>";
  if (sec < 0) return "0s";
  if (sec < 120) return `${sec}s`;
  const min = Math.floor(sec / 60);
  const part = (a: number, ua: string, b: number, ub: string): string => (b === 0 ? `${a}${ua}` : `${a}${ua}${b}${ub}`);
  if (min < 10) return part(min, "m", sec % 60, "s");
  if (min < 180) return `${min}m`;
  const h = Math.floor(min / 60);
  if (h < 8) return part(h, "h", min % 60, "m");
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 24 * 8) return part(d, "d", h % 24, "h");
  if (h < 24 * 365 * 2) return `${d}d`;
  const y = Math.floor(d / 365);
  if (h < 24 * 365 * 8) return part(y, "y", d % 365, "d");
  return `${y}y`;
}

/** Go's time.RFC1123Z, in UTC. */
export const rfc1123z = (d: Date | undefined): string => (d ? d.toUTCString().replace(/GMT$/, "+0000") : "<unknown>");

/**
 * Go's text/tabwriter (minwidth 0, padding 2, no flags): a column is aligned
 * over each run of consecutive lines that have a tab-terminated cell in it.
 */
export function tabwrite(lines: string[], padding = 2): string {
  const rows = lines.map((l) => l.split("\t"));
  const widths: number[][] = rows.map(() => []);
  const format = (from: number, to: number, col: number): void => {
    for (let i = from; i < to; ) {
      if (rows[i]!.length - 1 <= col) {
        i++;
        continue;
      }
      let j = i;
      let w = 0;
      for (; j < to && rows[j]!.length - 1 > col; j++) w = Math.max(w, rows[j]![col]!.length + padding);
      for (let k = i; k < j; k++) widths[k]![col] = w;
      format(i, j, col + 1);
      i = j;
    }
  };
  format(0, rows.length, 0);
  return rows.map((r, i) => r.map((cell, c) => (c < r.length - 1 ? cell.padEnd(widths[i]![c]!) : cell)).join("")).join("\n") + "\n";
}

type Out = (level: number, text: string) => void;

const or = (s: string, none = "<none>"): string => s || none;
const bool = (b: boolean): string => (b ? "True" : "False");

function multiline(out: Out, title: string, entries: [string, string][], sep: string): void {
  if (entries.length === 0) return out(0, `${title}:\t<none>`);
  entries.sort(([a], [b]) => a.localeCompare(b)).forEach(([k, v], i) => out(0, `${i === 0 ? `${title}:` : ""}\t${k}${sep}${v}`));
}

function describeProbe(p: Probe): string {
  const attrs = `delay=${p.initialDelaySeconds}s timeout=${p.timeoutSeconds || 1}s period=${p.periodSeconds || 10}s #success=${p.successThreshold || 1} #failure=${p.failureThreshold || 3}`;
  if (p.exec) return `exec [${p.exec.command.join(" ")}] ${attrs}`;
  if (p.httpGet) return `http-get ${(p.httpGet.scheme || "HTTP").toLowerCase()}://${p.httpGet.host}:${p.httpGet.port}${p.httpGet.path} ${attrs}`;
  if (p.tcpSocket) return `tcp-socket ${p.tcpSocket.host}:${p.tcpSocket.port} ${attrs}`;
  if (p.grpc) return `grpc <pod>:${p.grpc.port} ${p.grpc.service ?? ""} ${attrs}`;
  return `unknown ${attrs}`;
}

function describeState(out: Out, title: string, s: ContainerState | undefined): void {
  if (s?.running) {
    out(2, `${title}:\tRunning`);
    out(3, `Started:\t${rfc1123z(s.running.startedAt)}`);
  } else if (s?.terminated) {
    const t = s.terminated;
    out(2, `${title}:\tTerminated`);
    if (t.reason) out(3, `Reason:\t${t.reason}`);
    if (t.message) out(3, `Message:\t${t.message}`);
    out(3, `Exit Code:\t${t.exitCode}`);
    if (t.signal > 0) out(3, `Signal:\t${t.signal}`);
    out(3, `Started:\t${rfc1123z(t.startedAt)}`);
    out(3, `Finished:\t${rfc1123z(t.finishedAt)}`);
  } else {
    out(2, `${title}:\tWaiting`);
    if (s?.waiting?.reason) out(3, `Reason:\t${s.waiting.reason}`);
  }
}

function describeContainer(out: Out, c: Container, st: ContainerStatus | undefined): void {
  out(1, `${c.name}:`);
  if (st) out(2, `Container ID:\t${st.containerId}`);
  out(2, `Image:\t${c.image}`);
  if (st) out(2, `Image ID:\t${st.imageId}`);
  const ports = c.ports.map((p) => `${p.containerPort}/${p.protocol || "TCP"}`).join(", ");
  const hostPorts = c.ports.map((p) => `${p.hostPort}/${p.protocol || "TCP"}`).join(", ");
  out(2, `${ports.includes(",") ? "Ports" : "Port"}:\t${or(ports)}`);
  out(2, `${hostPorts.includes(",") ? "Host Ports" : "Host Port"}:\t${or(hostPorts)}`);
  if (c.restartPolicy) out(2, `Restart Policy:\t${c.restartPolicy}`);
  for (const [title, list] of [["Command", c.command], ["Args", c.args]] as const) {
    if (list.length === 0) continue;
    out(2, `${title}:`);
    for (const s of list.flatMap((x) => x.split("\n"))) out(3, s);
  }
  if (st) {
    describeState(out, "State", st.state);
    if (st.lastState?.terminated) describeState(out, "Last State", st.lastState);
    out(2, `Ready:\t${bool(st.ready)}`);
    out(2, `Restart Count:\t${st.restartCount}`);
  }
  for (const [title, m] of [["Limits", c.resources?.limits ?? {}], ["Requests", c.resources?.requests ?? {}]] as const) {
    const keys = Object.keys(m).sort();
    if (keys.length) out(2, `${title}:`);
    for (const k of keys) out(3, `${k}:\t${m[k]}`);
  }
  for (const [title, p] of [["Liveness", c.livenessProbe], ["Readiness", c.readinessProbe], ["Startup", c.startupProbe]] as const) if (p) out(2, `${title}:\t${describeProbe(p)}`);
  if (c.envFrom.length) out(2, "Environment Variables from:");
  for (const e of c.envFrom) {
    const [name, from, opt] = e.configMapRef ? [e.configMapRef.name, "ConfigMap", e.configMapRef.optional] : [e.secretRef?.name ?? "", "Secret", e.secretRef?.optional];
    out(3, `${name}\t${from}${e.prefix ? ` with prefix '${e.prefix}'` : ""}\tOptional: ${opt === true}`);
  }
  // Names and sources only for references: a secret's value never reaches the terminal.
  out(2, `Environment:${c.env.length ? "" : "\t<none>"}`);
  for (const e of c.env) {
    const f = e.valueFrom;
    if (e.value || !f) e.value.split("\n").forEach((s, i) => out(3, `${i === 0 ? `${e.name}:` : ""}\t${s}`));
    else if (f.fieldRef) out(3, `${e.name}:\t (${f.fieldRef.apiVersion || "v1"}:${f.fieldRef.fieldPath})`);
    else if (f.resourceFieldRef) out(3, `${e.name}:\t (${f.resourceFieldRef.resource})`);
    else if (f.secretKeyRef) out(3, `${e.name}:\t<set to the key '${f.secretKeyRef.key}' in secret '${f.secretKeyRef.name}'>\tOptional: ${f.secretKeyRef.optional === true}`);
    else if (f.configMapKeyRef) out(3, `${e.name}:\t<set to the key '${f.configMapKeyRef.key}' of config map '${f.configMapKeyRef.name}'>\tOptional: ${f.configMapKeyRef.optional === true}`);
  }
  out(2, `Mounts:${c.volumeMounts.length ? "" : "\t<none>"}`);
  for (const m of [...c.volumeMounts].sort((a, b) => a.mountPath.localeCompare(b.mountPath))) {
    out(3, `${m.mountPath} from ${m.name} (${[m.readOnly ? "ro" : "rw", ...(m.subPath ? [`path="${m.subPath}"`] : [])].join(",")})`);
  }
}

function describeContainers(out: Out, title: string, cs: Container[], statuses: ContainerStatus[]): void {
  out(0, `${title}:`);
  for (const c of cs) describeContainer(out, c, statuses.find((s) => s.name === c.name));
}

function describeVolume(out: Out, v: Volume): void {
  out(1, `${v.name}:`);
  const lines: [string, string][] = v.hostPath
    ? [["Type", "HostPath (bare host directory volume)"], ["Path", v.hostPath.path], ["HostPathType", v.hostPath.type]]
    : v.emptyDir
      ? [["Type", "EmptyDir (a temporary directory that shares a pod's lifetime)"], ["Medium", v.emptyDir.medium], ["SizeLimit", or(v.emptyDir.sizeLimit, "<unset>")]]
      : v.configMap
        ? [["Type", "ConfigMap (a volume populated by a ConfigMap)"], ["Name", v.configMap.name], ["Optional", String(v.configMap.optional)]]
        : v.secret
          ? [["Type", "Secret (a volume populated by a Secret)"], ["SecretName", v.secret.secretName], ["Optional", String(v.secret.optional)]]
          : v.csi
            ? [["Type", "CSI (a Container Storage Interface (CSI) volume source)"], ["Driver", v.csi.driver], ["FSType", v.csi.fsType], ["ReadOnly", String(v.csi.readOnly)]]
            : v.downwardApi
              ? [["Type", "DownwardAPI (a volume populated by information about the pod)"]]
              : [["Type", "<unknown>"]];
  for (const [k, val] of lines) out(2, `${k}:\t${val}`);
  if (v.downwardApi) {
    out(2, "Items:");
    for (const i of v.downwardApi.items) out(3, `${i.fieldRef?.fieldPath ?? i.resourceFieldRef?.resource ?? ""} -> ${i.path}`);
  }
}

/** kubectl's Events table: age as "3m2s (x4 over 10m)" for repeated events, sorted by last timestamp. */
function describeEvents(out: Out, events: Event[] | string, now: Date): void {
  if (typeof events === "string") return out(0, `Events:\t<unavailable: ${events}>`);
  if (events.length === 0) return out(0, "Events:\t<none>");
  const since = (d: Date | undefined): string => (d ? humanDuration(now.getTime() - d.getTime()) : "<unknown>");
  const sorted = [...events].sort((a, b) => (a.lastTimestamp?.getTime() ?? 0) - (b.lastTimestamp?.getTime() ?? 0));
  out(0, "Events:");
  out(1, "Type\tReason\tAge\tFrom\tMessage");
  out(1, "----\t------\t----\t----\t-------");
  for (const e of sorted) {
    const age = e.count > 1 ? `${since(e.lastTimestamp)} (x${e.count} over ${since(e.firstTimestamp)})` : since(e.firstTimestamp);
    out(1, `${e.type}\t${e.reason}\t${age}\t${e.source?.component ?? ""}\t${e.message.trim()}`);
  }
}

/** The whole description; `events` is a message when they could not be read, undefined to leave them out. */
export function describePod(pod: Pod, events: Event[] | string | undefined, now = new Date()): string {
  const lines: string[] = [];
  const out: Out = (level, text) => lines.push("  ".repeat(level) + text);
  const m = pod.metadata!;
  const spec = pod.spec!;
  const st = pod.status;
  out(0, `Name:\t${m.name}`);
  out(0, `Namespace:\t${m.namespace}`);
  out(0, `Node:\t${spec.nodeName ? `${spec.nodeName}/${st?.hostIp ?? ""}` : "<none>"}`);
  if (st?.startTime) out(0, `Start Time:\t${rfc1123z(st.startTime)}`);
  multiline(out, "Labels", Object.entries(m.labels), "=");
  multiline(out, "Annotations", Object.entries(m.annotations), ": ");
  if (m.deletionTimestamp && st?.phase !== "Failed" && st?.phase !== "Succeeded") {
    out(0, `Status:\tTerminating (lasts ${humanDuration(now.getTime() - m.deletionTimestamp.getTime())})`);
    out(0, `Termination Grace Period:\t${m.deletionGracePeriodSeconds ?? 0n}s`);
  } else out(0, `Status:\t${st?.phase ?? ""}`);
  if (st?.reason) out(0, `Reason:\t${st.reason}`);
  if (st?.message) out(0, `Message:\t${st.message}`);
  out(0, `IP:\t${st?.podIp ?? ""}`);
  if (!st?.podIps.length) out(0, "IPs:\t<none>");
  else {
    out(0, "IPs:");
    for (const ip of st.podIps) out(1, `IP:\t${ip.ip}`);
  }
  if (spec.initContainers.length) describeContainers(out, "Init Containers", spec.initContainers, st?.initContainerStatuses ?? []);
  describeContainers(out, "Containers", spec.containers, st?.containerStatuses ?? []);
  if (st?.conditions.length) {
    out(0, "Conditions:");
    out(1, "Type\tStatus");
    for (const c of st.conditions) out(1, `${c.type} \t${c.status} `);
  }
  if (spec.volumes.length === 0) out(0, "Volumes:\t<none>");
  else {
    out(0, "Volumes:");
    for (const v of spec.volumes) describeVolume(out, v);
  }
  out(0, `QoS Class:\t${st?.qosClass || qosClass(spec)}`);
  if (events !== undefined) describeEvents(out, events, now);
  return tabwrite(lines);
}

export function describeCommand(): Command {
  return withConn(new Command("describe").argument("<name>").description("show a pod in detail with its recent events, as kubectl describe pod"))
    .option("--no-show-events", "leave the events out")
    .action(async (name: string, o: ConnOpts & { showEvents: boolean }) => {
      const cp = connect(o);
      try {
        const pod = await cp.call("GetPod", cp.pods.getPod.bind(cp.pods), GetPodRequest.fromPartial({ ref: { namespace: o.namespace, name } }));
        let events: Event[] | string | undefined;
        if (o.showEvents) {
          // By uid as well: a deleted pod's events do not show on a new pod of the same name.
          const q = ListEventsRequest.fromPartial({ namespace: pod.metadata!.namespace, involvedObjectKind: "Pod", involvedObjectName: name, involvedObjectUid: pod.metadata!.uid });
          events = await cp.call("ListEvents", cp.events.listEvents.bind(cp.events), q).then((r) => r.items, (err: unknown) => errorMessage(err));
        }
        process.stdout.write(describePod(pod, events));
      } finally {
        cp.close();
      }
    });
}
