// The container side: address, link up and default route inside the pod's
// netns (one nsenter + `ip -batch`), and reading them back for CHECK.
import { existsSync } from "node:fs";
import { ipBatch, ipJson } from "./ip.js";

export function netnsExists(path: string): boolean {
  return existsSync(path);
}

export interface ContainerIp { ifname: string; mac: string; mtu: number; address: string; prefixLen: number; gateway: string }

export function containerLines(c: ContainerIp): string[] {
  return [
    // veth allows a live MAC change, so this also holds on a repeated ADD.
    `link set ${c.ifname} address ${c.mac} mtu ${c.mtu}`,
    `addr replace ${c.address}/${c.prefixLen} dev ${c.ifname}`,
    `link set ${c.ifname} up`,
    `route replace default via ${c.gateway} dev ${c.ifname}`,
  ];
}

export function configureContainer(netns: string, c: ContainerIp): Promise<string> {
  return ipBatch(containerLines(c), netns);
}

interface AddrInfo { family: string; local: string; prefixlen: number }
export interface ContainerLink { ifname: string; address: string; mtu: number; addr_info: AddrInfo[] }
export interface ContainerRoute { dst: string; gateway?: string; dev?: string }

export async function readContainer(netns: string, ifname: string): Promise<{ link?: ContainerLink; routes: ContainerRoute[] }> {
  const [links, routes] = await Promise.all([
    ipJson<ContainerLink[]>(["addr", "show"], netns),
    ipJson<ContainerRoute[]>(["route", "show"], netns),
  ]);
  return { link: links.find((l) => l.ifname === ifname), routes: routes.filter((r) => r.dev === ifname) };
}
