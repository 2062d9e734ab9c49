// The node's management port, as ovn-kubernetes' ovn-k8s-mp0: the host's own
// way onto OVN, so the kubelet-style probes of the agent (httpGet/tcpSocket to
// the pod IP from the host netns) and operators' curl reach pods in ovs mode,
// where no host interface holds a gateway address (bridge mode's bridge does).
//
// Logical side (NovaNET: stand-ins/src/novanet/ovn-mgmt.ts): the port is a
// NovaNET port in the management subnet, NovaNET's own tenant, whose switch
// hangs off a management router; that router has a point-to-point link to
// each tenant's router and routes every tenant subnet, while each tenant's
// router routes only the management subnet back. Tenants still share no
// route (A's router knows no B subnet), and the management router drops what
// neither comes from nor goes to the management subnet.
//
// Node side (here): an OVS internal port on br-int with the port's iface-id
// and MAC, its address, and a host route per subnet of a pod attached here,
// via the management router's address on that subnet.
//
// Why the CNI plugin makes it, not the agent: like the reference bridge
// plugin makes its bridge, ADD makes what the pod needs, idempotently, at
// the moment it is needed and by the one program that already holds the
// NovaNET client, the node's credentials for it and the OVS settings; it
// works for any runtime calling novanet (containerd runs ADD, not the agent),
// and leaves the agent's reconciliation untouched. It costs ADD nothing once
// made: the port's ifalias records it (one sysfs read) and the pod's subnet
// route is one more line for the `ip` that ADD runs anyway. DEL never removes
// it (other pods use it); the node's teardown does (ovs-vsctl del-port; its
// routes go with the link). The price of living in a per-call program: a port
// that loses its settings (Open vSwitch restarted re-creates the interface
// bare) is made again by the next ADD, with routes to the subnets of every
// attachment still on the node (the result cache), not at once.
//
// Tenants' subnets must not overlap while it is on: the host has one routing
// table (NovaNET refuses an overlapping subnet then).
import { listCache } from "../cache/cache.js";
import { run } from "./exec.js";
import { ipBatch } from "./ip.js";
import { linkAlias, linkExists } from "./link.js";
import { hostVethName } from "./names.js";

/** What the port's ifalias records: written last, so a half-made port is made again. */
export interface Management { subnetId: string; portId: string; gateway: string }

const MARK = "novanet-mp:";
// ip -batch splits on blanks and reads quotes: keep the alias free of both.
const enc = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);

/** The management port as an earlier ADD made it, undefined if it is missing or unfinished (sysfs, no exec). */
export function readManagement(ifname: string): Management | undefined {
  const a = linkAlias(ifname);
  if (!a?.startsWith(MARK)) return undefined;
  const [subnetId, portId, gateway] = a.slice(MARK.length).split(":").map((s) => decodeURIComponent(s));
  return subnetId && portId && gateway ? { subnetId, portId, gateway } : undefined;
}

/** The host route to a pod subnet through the management port; `replace` makes it idempotent. */
export function routeLine(ifname: string, cidr: string, gateway: string): string {
  return `route replace ${cidr} via ${gateway} dev ${ifname}`;
}

export interface ManagementSpec extends Management {
  ifname: string;
  bridge: string;
  ovsdb?: string;
  mac: string;
  address: string;
  prefixLen: number;
  mtu: number;
  /** Pod subnets to route through it. */
  routes: string[];
}

/** Makes (or completes) the management port; idempotent, so concurrent first ADDs are fine. */
export async function ensureManagement(s: ManagementSpec): Promise<void> {
  // One transaction: the port never exists without its iface-id and MAC (port
  // security drops any other source MAC). ovs-vsctl returns once ovs-vswitchd
  // has made the internal port's host interface.
  await run("ovs-vsctl", [...(s.ovsdb ? [`--db=${s.ovsdb}`] : []), "--timeout=10", "--may-exist", "add-port", s.bridge, s.ifname,
    "--", "set", "Interface", s.ifname, "type=internal", `mac="${s.mac}"`, `external_ids:iface-id=${s.portId}`]);
  await ipBatch([
    `link set ${s.ifname} address ${s.mac} mtu ${s.mtu}`,
    `addr replace ${s.address}/${s.prefixLen} dev ${s.ifname}`,
    `link set ${s.ifname} up`,
    ...s.routes.map((c) => routeLine(s.ifname, c, s.gateway)),
    `link set ${s.ifname} alias ${MARK}${[s.subnetId, s.portId, s.gateway].map(enc).join(":")}`,
  ]);
}

/** "10.1.2.5/24" -> "10.1.2.0/24"; undefined for anything else. */
export function networkOf(address: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(address);
  if (!m) return undefined;
  const len = Number(m[5]);
  const ip = m.slice(1, 5).reduce((n, o) => n * 256 + Number(o), 0);
  if (len < 1 || len > 32) return undefined;
  const net = ip - (ip % 2 ** (32 - len));
  return `${[net >>> 24, (net >>> 16) & 255, (net >>> 8) & 255, net & 255].join(".")}/${len}`;
}

/** The subnets of this network's attachments still on the node (cached results whose host veth is there). */
export function attachedNetworks(cacheDir: string, network: string): string[] {
  const nets = new Set<string>();
  for (const e of listCache(cacheDir, network)) {
    if (!linkExists(e.novanet?.hostVeth ?? hostVethName(e.containerId, e.ifName))) continue;
    for (const ip of e.result.ips ?? []) {
      const n = networkOf(ip.address);
      if (n) nets.add(n);
    }
  }
  return [...nets];
}
