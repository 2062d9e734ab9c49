// The node API's paths, the kubelet's (pkg/kubelet/server): /exec, /attach and
// /portForward (WebSocket upgrades) and /containerLogs (a plain GET), each
// under /{namespace}/{pod}[/{uid}]. Parsed by the server, built by the CLI, so
// both sides agree on every parameter.
import { CodedError } from "@plasmacloud/common/errors";
import type { StreamOptions } from "../runtime/types";

/** The node annotation that publishes the node API's port (the kubelet's status.daemonEndpoints). */
export const NODE_API_PORT_ANNOTATION = "plasmacloud.io/node-api-port";
/** The kubelet's port. */
export const DEFAULT_NODE_API_PORT = 10250;

export interface PodRef {
  namespace: string;
  pod: string;
  /** When set, the pod must have this uid (the kubelet's /{podNamespace}/{podID}/{uid}/... forms). */
  uid: string;
}

export interface LogQuery {
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines: number | undefined;
  sinceSeconds: number | undefined;
  sinceTime: Date | undefined;
  limitBytes: number | undefined;
}

export type Route =
  | (PodRef & { kind: "exec"; container: string; command: string[]; streams: StreamOptions })
  | (PodRef & { kind: "attach"; container: string; streams: StreamOptions })
  | (PodRef & { kind: "portForward"; ports: number[] })
  | (PodRef & { kind: "containerLogs"; container: string; logs: LogQuery });

const bad = (msg: string): CodedError => new CodedError("InvalidArgument", msg);
const unknownPath = (): CodedError => new CodedError("NotFound", "not found");

/** The kubelet reads "1"; the API server's PodExecOptions say "true": either turns a stream on. */
const flag = (q: URLSearchParams, name: string): boolean => ["1", "true"].includes(q.get(name) ?? "");

function streamsOf(q: URLSearchParams): StreamOptions {
  const tty = flag(q, "tty");
  // With a TTY stdout and stderr are one stream (the kubelet drops stderr too).
  const s = { stdin: flag(q, "input"), stdout: flag(q, "output"), stderr: flag(q, "error") && !tty, tty };
  if (!s.stdin && !s.stdout && !s.stderr) throw bad("you must specify at least 1 of stdin, stdout, stderr");
  return s;
}

function optionalInt(q: URLSearchParams, name: string, min: number): number | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw bad(`${name}: '${v}' must be an integer >= ${min}`);
  return n;
}

function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null || v === "" || v === "false") return false;
  if (v === "true" || v === "1") return true;
  throw bad(`${name}: '${v}' is not true or false`);
}

function logQuery(q: URLSearchParams): LogQuery {
  const sinceSeconds = optionalInt(q, "sinceSeconds", 1);
  const st = q.get("sinceTime");
  const sinceTime = st ? new Date(st) : undefined;
  if (sinceTime && Number.isNaN(sinceTime.getTime())) throw bad(`sinceTime: '${st}' is not an RFC 3339 time`);
  if (sinceSeconds !== undefined && sinceTime) throw bad("at most one of sinceTime or sinceSeconds may be specified");
  return {
    follow: boolParam(q, "follow"),
    previous: boolParam(q, "previous"),
    timestamps: boolParam(q, "timestamps"),
    tailLines: optionalInt(q, "tailLines", 0),
    sinceSeconds,
    sinceTime,
    limitBytes: optionalInt(q, "limitBytes", 1),
  };
}

function ports(q: URLSearchParams): number[] {
  const out: number[] = [];
  for (const v of q.getAll("port")) {
    for (const p of v.split(",")) {
      const n = Number(p);
      if (!p || !Number.isInteger(n) || n < 1 || n > 65535) throw bad(`port: '${p}' is not a port number (1-65535)`);
      out.push(n);
    }
  }
  if (out.length === 0) throw bad(`query parameter "port" is required`);
  return out;
}

function segments(pathname: string): string[] {
  try {
    return pathname.split("/").slice(1).map((s) => decodeURIComponent(s));
  } catch {
    throw bad("malformed path");
  }
}

/** The route of a request path (with its query); NotFound for an unknown path, InvalidArgument for a bad parameter. */
export function parseRoute(pathAndQuery: string): Route {
  const url = new URL(pathAndQuery, "https://node");
  const [kind, ...rest] = segments(url.pathname);
  const q = url.searchParams;
  if (rest.some((s) => s === "")) throw unknownPath();
  // {namespace}/{pod}[/{uid}]/{container}, or without the container for portForward.
  const withContainer = (): PodRef & { container: string } => {
    if (rest.length === 3) return { namespace: rest[0]!, pod: rest[1]!, uid: "", container: rest[2]! };
    if (rest.length === 4) return { namespace: rest[0]!, pod: rest[1]!, uid: rest[2]!, container: rest[3]! };
    throw unknownPath();
  };
  switch (kind) {
    case "exec": {
      const ref = withContainer();
      const command = q.getAll("command");
      if (command.length === 0) throw bad("command: at least one argument is required");
      return { kind, ...ref, command, streams: streamsOf(q) };
    }
    case "attach":
      return { kind, ...withContainer(), streams: streamsOf(q) };
    case "portForward": {
      if (rest.length !== 2 && rest.length !== 3) throw unknownPath();
      return { kind, namespace: rest[0]!, pod: rest[1]!, uid: rest[2] ?? "", ports: ports(q) };
    }
    case "containerLogs": {
      if (rest.length !== 3) throw unknownPath();
      return { kind, namespace: rest[0]!, pod: rest[1]!, uid: "", container: rest[2]!, logs: logQuery(q) };
    }
    default:
      throw unknownPath();
  }
}

const seg = (s: string): string => encodeURIComponent(s);

export function execPath(ns: string, pod: string, container: string, command: string[], s: StreamOptions): string {
  const q = new URLSearchParams(command.map((c): [string, string] => ["command", c]));
  if (s.stdin) q.set("input", "1");
  if (s.stdout) q.set("output", "1");
  if (s.stderr) q.set("error", "1");
  if (s.tty) q.set("tty", "1");
  return `/exec/${seg(ns)}/${seg(pod)}/${seg(container)}?${q}`;
}

export function attachPath(ns: string, pod: string, container: string, s: StreamOptions): string {
  return execPath(ns, pod, container, [], s).replace(/^\/exec\//, "/attach/");
}

export function portForwardPath(ns: string, pod: string, remotePorts: number[]): string {
  return `/portForward/${seg(ns)}/${seg(pod)}?${new URLSearchParams(remotePorts.map((p): [string, string] => ["port", String(p)]))}`;
}

export function logsPath(ns: string, pod: string, container: string, l: Partial<LogQuery>): string {
  const q = new URLSearchParams();
  if (l.follow) q.set("follow", "true");
  if (l.previous) q.set("previous", "true");
  if (l.timestamps) q.set("timestamps", "true");
  if (l.tailLines !== undefined) q.set("tailLines", String(l.tailLines));
  if (l.sinceSeconds !== undefined) q.set("sinceSeconds", String(l.sinceSeconds));
  if (l.sinceTime) q.set("sinceTime", l.sinceTime.toISOString());
  if (l.limitBytes !== undefined) q.set("limitBytes", String(l.limitBytes));
  return `/containerLogs/${seg(ns)}/${seg(pod)}/${seg(container)}${q.size ? `?${q}` : ""}`;
}
