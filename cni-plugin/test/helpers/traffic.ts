// Real bytes between pods' network namespaces: an echo peer (traffic-peer.mjs)
// in one netns, TCP and UDP clients in another, all through `ip netns exec`
// with argument arrays. Every peer started is stopped by stopPeers().
import { spawn, type ChildProcess } from "node:child_process";
import { exec } from "./exec.js";

const PEER = new URL("./traffic-peer.mjs", import.meta.url).pathname;
// A bare environment: no NODE_OPTIONS (the test runner's loader) in the peers.
const ENV = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
const peers = new Set<ChildProcess>();

/** TCP + UDP echo on `port` inside netns `ns`; resolves with its pid once both listen. */
export function startEchoPeer(ns: string, port: number): Promise<number> {
  const p = spawn("ip", ["netns", "exec", ns, process.execPath, PEER, "serve", String(port)], { env: ENV, stdio: ["ignore", "pipe", "pipe"] });
  peers.add(p);
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    p.stdout?.on("data", (b: Buffer) => { out += b.toString(); if (out.includes('"ready":true')) resolve(p.pid as number); });
    p.stderr?.on("data", (b: Buffer) => { err += b.toString(); });
    p.on("exit", (code) => { peers.delete(p); reject(new Error(`echo peer in ${ns} exited (${code}): ${err}`)); });
  });
}

export async function stopPeers(): Promise<void> {
  await Promise.all([...peers].map((p) => new Promise<void>((resolve) => {
    p.once("exit", () => resolve());
    p.kill("SIGTERM");
  })));
  peers.clear();
}

export interface TcpEcho { sent: number; echoed: number; intact: boolean; error?: string }
export interface UdpEcho { sizes: number[]; echoed: number[]; intact: boolean }

async function client<T>(ns: string, args: string[]): Promise<T> {
  const r = await exec("ip", ["netns", "exec", ns, process.execPath, PEER, ...args], { env: ENV });
  if (r.code !== 0) throw new Error(`traffic client in ${ns}: exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Sends `bytes` random bytes over TCP from netns `ns` and reads the echo back, for at most `ms`. */
export function tcpEcho(ns: string, host: string, port: number, bytes: number, ms = 8_000): Promise<TcpEcho> {
  return client(ns, ["tcp", host, String(port), String(bytes), String(ms)]);
}

/** One UDP datagram per size from netns `ns`, each read back from the echo (`tries` of 1 s each). */
export function udpEcho(ns: string, host: string, port: number, sizes: number[], tries = 3): Promise<UdpEcho> {
  return client(ns, ["udp", host, String(port), sizes.join(","), String(tries)]);
}

/**
 * Whether anything at all gets from netns `ns` to `ip` and back: ICMP echo,
 * TCP and UDP to an echo peer on `port`, probed at once. For "cannot reach"
 * checks, each given a second or two; call it where the same probes
 * demonstrably work, so a "nothing" is the network's doing.
 */
export async function reach(ns: string, ip: string, port: number): Promise<{ icmp: boolean; tcp: boolean; udp: boolean }> {
  const [icmp, tcp, udp] = await Promise.all([
    exec("ip", ["netns", "exec", ns, "busybox", "ping", "-c", "1", "-W", "2", ip]).then((r) => r.code === 0),
    tcpEcho(ns, ip, port, 4096, 2_000).then((r) => r.intact),
    udpEcho(ns, ip, port, [64], 2).then((r) => r.intact),
  ]);
  return { icmp, tcp, udp };
}
