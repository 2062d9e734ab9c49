// The CLI's side of the node API: which node serves a pod and where (the pod's
// node from the control plane, the node's InternalIP and the port it
// publishes), TLS trust as kubectl has it (--certificate-authority, or an
// explicit --insecure-skip-tls-verify), the user's bearer token, and opening a
// WebSocket or a GET there. A refusal becomes a CodedError with the server's
// message.
import { readFileSync } from "node:fs";
import { request } from "node:https";
import type { IncomingMessage } from "node:http";
import { WebSocket } from "ws";
import { CodedError, errorMessage, type ErrorCode } from "@plasmacloud/common/errors";
import { TokenFile } from "@plasmacloud/common/token";
import { GetNodeRequest, GetPodRequest, type Node, type Pod } from "@plasmacloud/proto/k8shost";
import { ControlPlane } from "../controlplane/client";
import { DEFAULT_NODE_API_PORT, NODE_API_PORT_ANNOTATION } from "./paths";

export interface NodeConnOpts {
  server: string;
  tokenFile: string;
  namespace: string;
  /** HOST[:PORT] of the node API; skips looking up the pod's node. */
  nodeAddress?: string;
  certificateAuthority?: string;
  insecureSkipTlsVerify?: boolean;
}

export interface NodeEndpoint {
  /** https://host:port */
  base: string;
  token: string;
  ca: Buffer | undefined;
  verify: boolean;
}

/** Where the node API of a node is: InternalIP first (the address the control plane dials kubelets on), then ExternalIP, then Hostname. */
export function nodeApiHost(node: Node): string | undefined {
  const addrs = node.status?.addresses ?? [];
  for (const type of ["InternalIP", "ExternalIP", "Hostname"]) {
    const a = addrs.find((x) => x.type === type && x.address);
    if (a) return a.address;
  }
  return undefined;
}

export function nodeApiPort(node: Node): number {
  const p = Number(node.metadata?.annotations[NODE_API_PORT_ANNOTATION]);
  return Number.isInteger(p) && p > 0 && p < 65536 ? p : DEFAULT_NODE_API_PORT;
}

const hostPort = (host: string, port: number): string => `${host.includes(":") ? `[${host}]` : host}:${port}`;

/** HOST, HOST:PORT or [V6]:PORT as https://host:port. */
export function parseNodeAddress(a: string): string {
  const m = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d+))?$/.exec(a);
  const port = m?.[2] === undefined ? DEFAULT_NODE_API_PORT : Number(m[2]);
  if (!m || !(port > 0 && port < 65536)) throw new CodedError("InvalidArgument", `--node-address '${a}' is not HOST or HOST:PORT`);
  return `https://${m[1]}:${port}`;
}

/** The node API that serves `pod`: --node-address, else its node's published address and port. */
export async function nodeEndpoint(cp: ControlPlane, o: Omit<NodeConnOpts, "server" | "namespace">, pod: Pod): Promise<NodeEndpoint> {
  if (o.certificateAuthority && o.insecureSkipTlsVerify) throw new CodedError("InvalidArgument", "--certificate-authority and --insecure-skip-tls-verify exclude each other");
  let base: string;
  if (o.nodeAddress) base = parseNodeAddress(o.nodeAddress);
  else {
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) throw new CodedError("InvalidArgument", `pod ${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""} is not scheduled to a node yet`);
    const node = await cp.call("GetNode", cp.nodes.getNode.bind(cp.nodes), GetNodeRequest.fromPartial({ name: nodeName }));
    const host = nodeApiHost(node);
    if (!host) throw new CodedError("Unavailable", `node ${nodeName} reports no address; give --node-address`);
    base = `https://${hostPort(host, nodeApiPort(node))}`;
  }
  let ca: Buffer | undefined;
  if (o.certificateAuthority) {
    try {
      ca = readFileSync(o.certificateAuthority);
    } catch (err) {
      throw new CodedError("InvalidArgument", `cannot read --certificate-authority ${o.certificateAuthority}: ${errorMessage(err)}`);
    }
  }
  return { base, token: new TokenFile(o.tokenFile).get(), ca, verify: !o.insecureSkipTlsVerify };
}

/** The pod (from the control plane, in the caller's tenant) and the node API endpoint that serves it. */
export async function locatePod(o: NodeConnOpts, name: string): Promise<{ pod: Pod; endpoint: NodeEndpoint }> {
  const cp = new ControlPlane(o.server, o.tokenFile, "", 15_000);
  try {
    const pod = await cp.call("GetPod", cp.pods.getPod.bind(cp.pods), GetPodRequest.fromPartial({ ref: { namespace: o.namespace, name } }));
    return { pod, endpoint: await nodeEndpoint(cp, o, pod) };
  } finally {
    cp.close();
  }
}

const CODES: Record<number, ErrorCode> = { 400: "InvalidArgument", 401: "Unauthenticated", 403: "PermissionDenied", 404: "NotFound", 503: "Unavailable" };

async function refusal(res: IncomingMessage, base: string): Promise<CodedError> {
  let body = "";
  res.setEncoding("utf8");
  for await (const chunk of res) if (body.length < 4096) body += chunk as string;
  const code = CODES[res.statusCode ?? 0] ?? "Internal";
  return new CodedError(code, `node API ${base}: ${body.trim() || `HTTP ${res.statusCode ?? "?"}`}`, { status: res.statusCode ?? 0 });
}

/** Opens a WebSocket to `path` with the given subprotocols; rejects with the server's refusal. */
export function openStream(e: NodeEndpoint, path: string, protocols: string[]): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${e.base.replace(/^https:/, "wss:")}${path}`, protocols, {
      headers: { authorization: `Bearer ${e.token}` },
      ca: e.ca,
      rejectUnauthorized: e.verify,
      perMessageDeflate: false,
      handshakeTimeout: 30_000,
    });
    ws.once("open", () => resolve(ws));
    ws.on("error", (err) => reject(new CodedError("Unavailable", `node API ${e.base}: ${errorMessage(err)}`)));
    ws.once("unexpected-response", (req, res) => {
      // The body says why; the request goes only once it is read.
      void refusal(res, e.base)
        .then(reject, reject)
        .finally(() => req.destroy());
    });
  });
}

/** A GET of `path`; resolves with the 200 response (a stream), rejects with the server's refusal. */
export function get(e: NodeEndpoint, path: string, signal?: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(`${e.base}${path}`, { headers: { authorization: `Bearer ${e.token}` }, ca: e.ca, rejectUnauthorized: e.verify, signal }, (res) => {
      if (res.statusCode === 200) resolve(res);
      else void refusal(res, e.base).then(reject, reject);
    });
    req.on("error", (err) => reject(new CodedError("Unavailable", `node API ${e.base}: ${errorMessage(err)}`)));
    req.end();
  });
}

/** kubectl's choice of container: -c, else the default-container annotation, else the first (said on stderr when there are several). */
export function defaultContainer(pod: Pod, named: string | undefined, warn: (msg: string) => void): string {
  if (named) return named;
  const cs = pod.spec?.containers ?? [];
  const annotated = pod.metadata?.annotations["kubectl.kubernetes.io/default-container"];
  if (annotated && cs.some((c) => c.name === annotated)) return annotated;
  const first = cs[0]?.name;
  if (!first) throw new CodedError("InvalidArgument", `pod ${pod.metadata?.name ?? ""} has no containers`);
  if (cs.length > 1) warn(`Defaulted container "${first}" out of: ${cs.map((c) => c.name).join(", ")}`);
  return first;
}
