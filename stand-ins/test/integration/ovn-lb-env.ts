// What ovn-lb.test.ts drives and reads: Service backends and clients in pods'
// netns (ovn-lb-peer.mjs through `ip netns exec`, argument arrays), the pods
// and Services in the control-plane stand-in as users and the agent would
// make them, and the northbound rows read with ovn-nbctl from outside.
import { spawn, type ChildProcess } from "node:child_process";
import { CreatePodRequest, CreateServiceRequest, DeleteServiceRequest, Pod, UpdatePodStatusRequest, type Service } from "@plasmacloud/proto/k8shost";
import type { ControlPlane } from "../../../agent/src/controlplane/client.js";
import { exec } from "../../../cni-plugin/test/helpers/exec.js";
import { nbctl } from "../../../cni-plugin/test/helpers/ovn.js";

const PEER = new URL("./ovn-lb-peer.mjs", import.meta.url).pathname;
// A bare environment: no NODE_OPTIONS (the test runner's loader) in the peers.
const ENV = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
const servers = new Set<ChildProcess>();

/** A backend answering `name` on TCP and UDP `port` inside netns `ns`; resolves once it listens. */
export function serve(ns: string, name: string, port: number): Promise<void> {
  const p = spawn("ip", ["netns", "exec", ns, process.execPath, PEER, "serve", name, String(port)], { env: ENV, stdio: ["ignore", "pipe", "pipe"] });
  servers.add(p);
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    p.stdout?.on("data", (b: Buffer) => { out += b.toString(); if (out.includes('"ready":true')) resolve(); });
    p.stderr?.on("data", (b: Buffer) => { err += b.toString(); });
    p.on("exit", (code) => { servers.delete(p); reject(new Error(`backend ${name} in ${ns} exited (${code}): ${err}`)); });
  });
}

export async function stopServers(): Promise<void> {
  await Promise.all([...servers].map((p) => new Promise<void>((resolve) => { p.once("exit", () => resolve()); p.kill("SIGTERM"); })));
  servers.clear();
}

export interface Tally { answers: Record<string, number>; errors: Record<string, number> }

async function client(ns: string, proto: "tcp" | "udp", host: string, port: number, count: number): Promise<Tally & { from: Record<string, number> }> {
  const r = await exec("ip", ["netns", "exec", ns, process.execPath, PEER, proto, host, String(port), String(count)], { env: ENV });
  if (r.code !== 0) throw new Error(`probe from ${ns}: exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Tally & { from: Record<string, number> };
}

/** `count` TCP connections or UDP requests from netns `ns` to host:port: who answered, and how the rest failed. */
export async function probe(ns: string, proto: "tcp" | "udp", host: string, port: number, count: number): Promise<Tally> {
  const { answers, errors } = await client(ns, proto, host, port, count);
  return { answers, errors };
}

/** The same, but the client addresses the backends saw (count per address; failures throw). */
export async function seenFrom(ns: string, proto: "tcp" | "udp", host: string, port: number, count: number): Promise<Record<string, number>> {
  const t = await client(ns, proto, host, port, count);
  if (Object.keys(t.errors).length) throw new Error(`probe from ${ns} to ${host}:${port}: ${JSON.stringify(t.errors)}`);
  return t.from;
}

export interface PodRef { orgId: string; projectId: string; name: string; ip: string }

/** The pod as its user creates it (bound to `node`), and its status as the node's agent reports it. */
export async function registerPod(user: ControlPlane, node: ControlPlane, nodeName: string, p: PodRef, labels: Record<string, string>, ready: boolean): Promise<void> {
  const pod = Pod.fromPartial({
    metadata: { name: p.name, namespace: "default", labels },
    spec: { nodeName, containers: [{ name: "c", image: "busybox", ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }, { name: "dns", containerPort: 8080, protocol: "UDP" }] }] },
  });
  await user.call("CreatePod", user.pods.createPod.bind(user.pods), CreatePodRequest.fromPartial({ pod }));
  await setReady(node, p, ready);
}

export async function setReady(node: ControlPlane, p: PodRef, ready: boolean): Promise<void> {
  await node.call("UpdatePodStatus", node.pods.updatePodStatus.bind(node.pods), UpdatePodStatusRequest.fromPartial({
    ref: { orgId: p.orgId, projectId: p.projectId, namespace: "default", name: p.name },
    status: { phase: "Running", podIp: p.ip, podIps: [{ ip: p.ip }], conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  }));
}

export function createService(user: ControlPlane, name: string, selector: Record<string, string>): Promise<Service> {
  const service = {
    metadata: { name, namespace: "default" },
    spec: { selector, ports: [{ name: "http", port: 80, targetPort: "http" }, { name: "dns", port: 53, protocol: "UDP", targetPort: "dns" }] },
  };
  return user.call("CreateService", user.services.createService.bind(user.services), CreateServiceRequest.fromPartial({ service }));
}

export async function deleteService(user: ControlPlane, name: string): Promise<void> {
  await user.call("DeleteService", user.services.deleteService.bind(user.services), DeleteServiceRequest.fromPartial({ ref: { namespace: "default", name } }));
}

export interface LbRow { uuid: string; protocol: string; vips: Record<string, string>; options: Record<string, string> }

type Cell = unknown;
const mapOf = (c: Cell): Record<string, string> => Object.fromEntries((c as [string, [string, string][]])[1]);

/** The Load_Balancer rows of this name, read with ovn-nbctl. */
export async function lbRows(name: string): Promise<LbRow[]> {
  const out = await nbctl("--format=json", "--columns=_uuid,protocol,vips,options", "find", "Load_Balancer", `name=${JSON.stringify(name)}`);
  return (JSON.parse(out) as { data: Cell[][] }).data.map((r) => ({ uuid: (r[0] as [string, string])[1], protocol: String(r[1]), vips: mapOf(r[2]), options: mapOf(r[3]) }));
}

/** Names of the load balancers on a logical switch. */
export async function switchLbs(ls: string): Promise<string[]> {
  const uuids = (await nbctl("--bare", "--columns=load_balancer", "find", "Logical_Switch", `name=${JSON.stringify(ls)}`)).trim().split(/\s+/).filter(Boolean);
  const names: string[] = [];
  for (const u of uuids) names.push((await nbctl("--bare", "--columns=name", "list", "Load_Balancer", u)).trim());
  return names.sort();
}

/** Names of rows of `table` owned by `prefix`. */
export async function owned(table: string, prefix: string, column = "name"): Promise<string[]> {
  return (await nbctl("--bare", `--columns=${column}`, "find", table, `external_ids:novanet-owner=${JSON.stringify(prefix)}`)).split("\n").filter(Boolean).sort();
}

/** Polls `fn` until it returns something truthy; fails naming `what` (and the last value) at the deadline. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
