// The kubelet's HTTP GET action (pkg/probe/http), shared by probes and
// lifecycle hooks (plain HTTP on the wire client, http-wire.ts; HTTPS on
// node:https): a new connection per request (no keep-alive), HTTPS without
// certificate verification, default User-Agent and Accept headers that the
// user's headers override, redirects followed only while they stay on the same
// host (at most 10), and a body read no further than 10 KiB.
import type { IncomingMessage, OutgoingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import type { Container, HTTPGetAction } from "@plasmacloud/proto/k8shost";
import { AGENT_VERSION } from "../node/controller";
import { timeoutError, wireGet, wireTarget, type WireTarget } from "./http-wire";
import { ProbeError, resolvePort, type ProbeOutcome } from "./spec";

const MAX_BODY = 10 * 1024;
const MAX_REDIRECTS = 10;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const [MAJOR, MINOR] = AGENT_VERSION.split(".");

export interface HttpGetOptions {
  /** The pod's IP: the host when the action names none. */
  podIP: string;
  container: Container;
  timeoutMs: number;
  /** "probe" or "lifecycle": the kubelet's User-Agent is kube-<purpose>/<version>. */
  purpose: "probe" | "lifecycle";
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  location: string | undefined;
  body: string;
}

/** The URL the kubelet builds (formatURL): scheme, host:port, and the path with its query. */
export function actionURL(a: HTTPGetAction, o: Pick<HttpGetOptions, "podIP" | "container">): URL {
  const scheme = (a.scheme || "HTTP").toLowerCase();
  const host = a.host || o.podIP;
  const port = resolvePort(a.port, o.container);
  const h = isIP(host) === 6 ? `[${host}]` : host;
  const path = a.path.startsWith("/") ? a.path : `/${a.path}`;
  return new URL(`${scheme}://${h}:${port}${path}`);
}

function headersOf(a: HTTPGetAction, purpose: string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const h of a.httpHeaders) {
    const prev = out[h.name.toLowerCase()];
    out[h.name.toLowerCase()] = prev === undefined ? h.value : [...(Array.isArray(prev) ? prev : [String(prev)]), h.value];
  }
  out["user-agent"] ??= `kube-${purpose}/${MAJOR}.${MINOR}`;
  if (out.accept === undefined) out.accept = "*/*";
  else if (out.accept === "") delete out.accept; // an empty Accept means "send none"
  out.connection = "close";
  return out;
}

/**
 * One probe GET with a deadline over the whole exchange. Transport errors
 * (refused, reset, timeout) are failures, as the kubelet converts them; a 2xx
 * is a success, a 3xx it did not follow a warning, anything else a failure.
 */
export async function httpGet(a: HTTPGetAction, o: HttpGetOptions): Promise<ProbeOutcome> {
  let res: HttpResponse;
  try {
    res = await httpExchange(a, o);
  } catch (err) {
    if (err instanceof ProbeError) throw err; // no such port: nothing was probed
    return { result: "failure", output: (err as Error).message };
  }
  if (res.status >= 200 && res.status < 300) return { result: "success", output: res.body };
  if (res.status >= 300 && res.status < 400) return { result: "warning", output: `Probe terminated redirects, Response body: ${res.body}` };
  return { result: "failure", output: `HTTP probe failed with statuscode: ${res.status}` };
}

/** A probe's URL, headers and first request, kept while its action and pod IP stay the same: a probe runs every period. */
interface Prepared {
  podIP: string;
  purpose: string;
  url: URL;
  headers: OutgoingHttpHeaders;
  first: WireTarget | undefined;
}
const prepared = new WeakMap<HTTPGetAction, Prepared>();

function prepare(a: HTTPGetAction, o: HttpGetOptions): Prepared {
  const p = prepared.get(a);
  if (p && p.podIP === o.podIP && p.purpose === o.purpose) return p;
  const n = { podIP: o.podIP, purpose: o.purpose, url: actionURL(a, o), headers: headersOf(a, o.purpose), first: undefined };
  prepared.set(a, n);
  return n;
}

const pairsOf = (headers: OutgoingHttpHeaders): [string, string][] =>
  Object.entries(headers).flatMap(([n, v]) => (Array.isArray(v) ? v.map((x): [string, string] => [n, x]) : [[n, String(v)]]));

/**
 * The GET and its same-host redirects; the last response. Throws on a
 * transport error, its message in Go's `Get "URL": why` form. timeoutMs 0 = no
 * deadline (a lifecycle hook, bounded by its caller's signal).
 */
export async function httpExchange(a: HTTPGetAction, o: HttpGetOptions): Promise<HttpResponse> {
  const p = prepare(a, o);
  const deadline = o.timeoutMs > 0 ? Date.now() + o.timeoutMs : 0;
  let current = p.url;
  try {
    for (let hops = 0; ; hops++) {
      const left = deadline ? deadline - Date.now() : 0;
      if (deadline && left <= 0) throw timeoutError();
      let res: HttpResponse;
      if (current.protocol === "http:") {
        const target = hops === 0 ? (p.first ??= wireTarget(current, pairsOf(p.headers))) : wireTarget(current, pairsOf(p.headers));
        res = await wireGet(target, MAX_BODY, left, o.signal);
      } else res = await tlsGet(current, p.headers, left, o.signal);
      if (!REDIRECTS.has(res.status) || !res.location) return res;
      const next = new URL(res.location, current);
      if (next.hostname !== p.url.hostname) return res; // the kubelet stops at another host's door
      if (hops + 1 >= MAX_REDIRECTS) throw new Error(`stopped after ${MAX_REDIRECTS} redirects`);
      current = next;
    }
  } catch (err) {
    const why = (err as Error).name === "TimeoutError" ? "context deadline exceeded (Client.Timeout exceeded while awaiting headers)" : (err as Error).message;
    throw new Error(`Get "${current.href}": ${why}`, { cause: err });
  }
}

/** HTTPS on node:https, certificates unchecked (the kubelet's InsecureSkipVerify). */
function tlsGet(url: URL, headers: OutgoingHttpHeaders, timeoutMs: number, outer: AbortSignal | undefined): Promise<HttpResponse> {
  const deadline = timeoutMs > 0 ? new AbortController() : undefined;
  const signals = [deadline?.signal, outer].filter((s): s is AbortSignal => s !== undefined);
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  return new Promise<HttpResponse>((resolve, reject) => {
    const timer = deadline && setTimeout(() => deadline.abort(), timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      reject(deadline?.signal.aborted ? timeoutError() : err);
    };
    const opts = { method: "GET", headers, signal, agent: false as const, rejectUnauthorized: false };
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (): void => {
        clearTimeout(timer);
        res.destroy();
        resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: Buffer.concat(chunks).toString("utf8").slice(0, MAX_BODY) });
      };
      res.on("data", (d: Buffer) => {
        chunks.push(d);
        size += d.length;
        if (size >= MAX_BODY) done(); // the kubelet reads no further either
      });
      res.on("end", done);
      res.on("error", fail);
    };
    const req = httpsRequest(url, opts, onResponse);
    req.on("error", fail);
    req.end();
  });
}
