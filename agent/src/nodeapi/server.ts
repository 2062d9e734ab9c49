// The node API: the kubelet's :10250 server for what needs the node itself.
// HTTPS only (no plain listener, no self-signed fallback), every request
// authenticated by the control plane's token review (authn.ts) before anything
// else, then authorized to one pod of the caller's tenant bound to this node
// (authz.ts). /exec, /attach and /portForward are WebSocket upgrades proxied to
// the runtime's streaming server (proxy.ts; exec and attach in v5 go there over
// SPDY, spdy-exec.ts); /containerLogs is a plain GET
// (logs.ts). Requests are logged with the caller and pod, never a token or a
// command line.
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { CodedError, errorCode, errorMessage, type ErrorCode } from "@plasmacloud/common/errors";
import type { Logger } from "@plasmacloud/common/log";
import type { Pod } from "@plasmacloud/proto/k8shost";
import type { PodRuntime } from "../runtime/types";
import type { Authenticator, Caller } from "./authn";
import { authorizedPod, containerSpec, readySandbox, runningContainer, type PodLookup } from "./authz";
import { chooseProtocol, PORT_FORWARD_PROTOCOLS, SERVED_REMOTE_COMMAND_PROTOCOLS, V5 } from "./channels";
import { serveLogs } from "./logs";
import { parseRoute, type Route } from "./paths";
import { dialRuntime, DIAL_TIMEOUT_MS, StreamProxy } from "./proxy";
import { dialRuntimeSpdy } from "./spdy-exec";
import type { StreamOptions } from "../runtime/types";

export interface NodeApiOptions {
  address: string;
  port: number;
  certFile: string;
  keyFile: string;
  nodeName: string;
  podLogsDir: string;
  authn: Authenticator;
  pods: PodLookup;
  runtime: Pick<PodRuntime, "podState" | "exec" | "attach" | "portForward">;
  log: Logger;
}

export interface NodeApi {
  port: number;
  close(): Promise<void>;
}

/** The one map from an error's code to this API's HTTP status; anything else is 500. */
const STATUS: Partial<Record<ErrorCode, [number, string]>> = {
  InvalidArgument: [400, "Bad Request"],
  Unauthenticated: [401, "Unauthorized"],
  NotFound: [404, "Not Found"],
  Unavailable: [503, "Service Unavailable"],
};

function httpError(err: unknown): { status: number; reason: string; message: string } {
  const [status, reason] = STATUS[errorCode(err)] ?? [500, "Internal Server Error"];
  return { status, reason, message: errorMessage(err) };
}

/** An answer on a socket whose upgrade is refused: plain HTTP, then the connection ends. */
function refuseUpgrade(socket: Duplex, e: ReturnType<typeof httpError>): void {
  if (socket.destroyed) return;
  const body = `${e.message}\n`;
  const extra = e.status === 401 ? 'WWW-Authenticate: Bearer realm="k8shost-agent"\r\n' : "";
  socket.end(`HTTP/1.1 ${e.status} ${e.reason}\r\n${extra}Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

export async function startNodeApi(o: NodeApiOptions): Promise<NodeApi> {
  const proxy = new StreamProxy();
  const logPath = (req: IncomingMessage): string => (req.url ?? "").split("?")[0] ?? "";

  /** Who is asking, which route, which pod: in that order, so an unauthenticated caller learns nothing. */
  const admit = async (req: IncomingMessage): Promise<{ caller: Caller; route: Route; pod: Pod }> => {
    const auth = await o.authn.authenticate(req.headers.authorization);
    if (!auth.ok) throw new CodedError(auth.code, auth.message);
    const route = parseRoute(req.url ?? "/");
    const pod = await authorizedPod(auth.caller, route, o.nodeName, o.pods);
    return { caller: auth.caller, route, pod };
  };

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const { caller, route, pod } = await admit(req);
      if (route.kind !== "containerLogs") throw new CodedError("InvalidArgument", `${route.kind} needs a WebSocket upgrade (subprotocol ${SERVED_REMOTE_COMMAND_PROTOCOLS[0]})`);
      if (req.method !== "GET") throw new CodedError("InvalidArgument", `containerLogs: only GET, not ${req.method ?? ""}`);
      o.log.info({ api: route.kind, pod: `${route.namespace}/${route.pod}`, container: route.container, principal: caller.principal }, "node API request");
      await serveLogs(res, pod, route.container, route.logs, { podLogsDir: o.podLogsDir, runtime: o.runtime });
    } catch (err) {
      const e = httpError(err);
      if (e.status >= 500) o.log.warn({ path: logPath(req), status: e.status, err: e.message }, "node API request failed");
      if (res.headersSent) return void res.destroy();
      const headers: Record<string, string> = { "content-type": "text/plain; charset=utf-8" };
      if (e.status === 401) headers["www-authenticate"] = 'Bearer realm="k8shost-agent"';
      res.writeHead(e.status, headers).end(`${e.message}\n`);
    }
  };

  /** A refusal by the runtime is the runtime's (500), not the caller's mistake; a runtime that is down is 503. */
  const fromRuntime = (p: Promise<string>): Promise<string> =>
    p.catch((err: unknown) => {
      throw new CodedError(errorCode(err) === "Unavailable" ? "Unavailable" : "Internal", `runtime: ${errorMessage(err)}`);
    });

  /** The runtime's URL for the route's stream (and the streams it was asked for), after the pod-level checks the kubelet makes. */
  const runtimeUrl = async (route: Route, pod: Pod): Promise<{ url: string; streams?: StreamOptions }> => {
    switch (route.kind) {
      case "exec":
        containerSpec(pod, route.container);
        return { url: await fromRuntime(o.runtime.exec(await runningContainer(o.runtime, pod, route.container), route.command, route.streams)), streams: route.streams };
      case "attach": {
        const spec = containerSpec(pod, route.container);
        if (route.streams.stdin && !spec.stdin) throw new CodedError("InvalidArgument", `container "${spec.name}" was not created with stdin: true; attach without -i`);
        // Whether the process has a terminal was fixed when it started: the container's setting wins (the kubelet's rule).
        const streams = { ...route.streams, tty: spec.tty, stderr: route.streams.stderr && !spec.tty };
        return { url: await fromRuntime(o.runtime.attach(await runningContainer(o.runtime, pod, route.container), streams)), streams };
      }
      case "portForward":
        return { url: await fromRuntime(o.runtime.portForward(await readySandbox(o.runtime, pod), route.ports)) };
      default:
        throw new CodedError("InvalidArgument", `${route.kind} is not a stream; use a plain GET`);
    }
  };

  const onUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    // Node leaves an upgrade's socket without an error listener: a client reset must not be unhandled.
    socket.on("error", () => socket.destroy());
    try {
      const { caller, route, pod } = await admit(req);
      if ((req.headers.upgrade ?? "").toLowerCase() !== "websocket" || !req.headers["sec-websocket-key"] || req.headers["sec-websocket-version"] !== "13") {
        throw new CodedError("InvalidArgument", "only WebSocket upgrades are served (SPDY is not)");
      }
      const offered = (req.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim()).filter(Boolean);
      const supported = route.kind === "portForward" ? PORT_FORWARD_PROTOCOLS : SERVED_REMOTE_COMMAND_PROTOCOLS;
      const protocol = chooseProtocol(offered, supported);
      if (protocol === undefined) throw new CodedError("InvalidArgument", `none of the offered subprotocols (${offered.join(", ")}) is supported; use ${supported[0]}`);
      const { url, streams } = await runtimeUrl(route, pod);
      const unavailable = (err: unknown): never => {
        throw new CodedError("Unavailable", `runtime streaming server: ${errorMessage(err)}`);
      };
      const container = "container" in route ? route.container : undefined;
      const opened = (): void => o.log.info({ api: route.kind, pod: `${route.namespace}/${route.pod}`, container, protocol, principal: caller.principal }, "node API stream opened");
      if (protocol === V5 && streams) {
        // v5's half-close needs the runtime's SPDY side (its WebSocket side stops at v4).
        const rt = await dialRuntimeSpdy(url, streams, DIAL_TIMEOUT_MS).catch(unavailable);
        opened();
        proxy.attachSpdy(req, socket, head, rt, protocol);
      } else {
        const upstream = await dialRuntime(url, protocol).catch(unavailable);
        opened();
        proxy.attach(req, socket, head, upstream, protocol);
      }
    } catch (err) {
      const e = httpError(err);
      if (e.status >= 500) o.log.warn({ path: logPath(req), status: e.status, err: e.message }, "node API stream refused");
      refuseUpgrade(socket, e);
    }
  };

  const server: Server = createServer({ cert: readFileSync(o.certFile), key: readFileSync(o.keyFile), minVersion: "TLSv1.2" }, (req, res) => void onRequest(req, res));
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => void onUpgrade(req, socket, head));
  // A client that is not TLS (or fails the handshake) is dropped; nothing to log per connection.
  server.on("tlsClientError", (_err, socket) => socket.destroy());
  const sockets = new Set<Socket>();
  server.on("secureConnection", (s: Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.address, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      proxy.close();
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
