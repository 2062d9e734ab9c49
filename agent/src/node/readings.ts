// Real readings of this machine: static facts for registration (via
// systeminformation, once) and cheap live figures for every heartbeat
// (/proc and statfs; no child processes on the hot path).
import { readFile, statfs } from "node:fs/promises";
import si from "systeminformation";
import { defaultNodeIP } from "./address";

export interface StaticFacts {
  cpuCores: number;
  memoryBytes: number;
  ephemeralBytes: number;
  kernel: string;
  osImage: string;
  arch: string;
  machineId: string;
  bootId: string;
  addresses: { type: string; address: string }[];
}

export interface LiveReadings {
  memoryAvailableBytes: number;
  memoryTotalBytes: number;
  fsAvailableBytes: number;
  fsTotalBytes: number;
  pidsInUse: number;
  pidMax: number;
}

async function readTrim(path: string): Promise<string> {
  try {
    return (await readFile(path, "utf8")).trim();
  } catch {
    return "";
  }
}

/** The address the node reports without node.ip: its default-route IPv4 address. */
export function internalIP(): string {
  return defaultNodeIP(4);
}

/** `nodeIP`: the node's InternalIP (node/address.ts resolveNodeIP). */
export async function staticFacts(hostname: string, rootDir: string, nodeIP: string): Promise<StaticFacts> {
  const [cpu, mem, os] = await Promise.all([si.cpu(), si.mem(), si.osInfo()]);
  const fs = await statfs(rootDir);
  return {
    cpuCores: cpu.cores,
    memoryBytes: mem.total,
    ephemeralBytes: fs.blocks * fs.bsize,
    kernel: os.kernel,
    osImage: `${os.distro} ${os.release}`.trim(),
    arch: os.arch === "x64" ? "amd64" : os.arch,
    machineId: await readTrim("/etc/machine-id"),
    bootId: await readTrim("/proc/sys/kernel/random/boot_id"),
    addresses: [
      { type: "InternalIP", address: nodeIP },
      { type: "Hostname", address: hostname },
    ],
  };
}

export async function liveReadings(rootDir: string): Promise<LiveReadings> {
  const [meminfo, loadavg, pidMax, fs] = await Promise.all([
    readTrim("/proc/meminfo"),
    readTrim("/proc/loadavg"),
    readTrim("/proc/sys/kernel/pid_max"),
    statfs(rootDir),
  ]);
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(meminfo)?.[1] ?? 0) * 1024;
  return {
    memoryAvailableBytes: kb("MemAvailable"),
    memoryTotalBytes: kb("MemTotal"),
    fsAvailableBytes: fs.bavail * fs.bsize,
    fsTotalBytes: fs.blocks * fs.bsize,
    // loadavg's 4th field is "running/total" scheduling entities (threads).
    pidsInUse: Number(loadavg.split(" ")[3]?.split("/")[1] ?? 0),
    pidMax: Number(pidMax) || 32768,
  };
}
