// One attachment's host plumbing, in two phases so the slow parts overlap:
//   createPair()  before NovaNET has answered: the veth pair, its container
//                 end created directly inside the netns (needs no port data);
//   configure()   with port + subnet: MAC/MTU/address/route inside the netns
//                 and bridge/OVS membership outside, the two `ip` runs in
//                 parallel.
// Both are idempotent (a repeated ADD re-applies settings); detach()
// tolerates anything already gone.
import { ExecError } from "@plasmacloud/common/exec";
import type { NovanetMode } from "@plasmacloud/proto/netconf";
import { bridgeLines, ensureBridge } from "./bridge.js";
import { ipBatch } from "./ip.js";
import { deleteLink, linkExists, linkMac } from "./link.js";
import { configureContainer } from "./netns.js";
import { addOvsPort, delOvsPort } from "./ovs.js";

export interface PairSpec {
  host: string;
  /** Container-side name (CNI_IFNAME). */
  ifname: string;
  netns: string;
  /** Written to the host end's ifalias: see names.ts. */
  alias: string;
}

export interface AttachSpec extends PairSpec {
  mode: NovanetMode;
  /** OVS integration bridge or the subnet's Linux bridge. */
  bridge: string;
  ovsdb?: string;
  portId: string;
  mac: string;
  mtu: number;
  address: string;
  prefixLen: number;
  gateway: string;
}

export interface Attached {
  hostMac: string;
  bridgeMac?: string;
}

const pairLines = (p: PairSpec): string[] => [
  `link add ${p.host} type veth peer name ${p.ifname} netns ${p.netns}`,
  `link set ${p.host} alias ${p.alias}`,
];

/** Creates the pair unless the host end exists (a repeated ADD). True if created. */
export async function createPair(p: PairSpec): Promise<boolean> {
  if (linkExists(p.host)) return false;
  await ipBatch(pairLines(p));
  return true;
}

export async function configure(s: AttachSpec): Promise<Attached> {
  if (s.mode === "bridge") await ensureBridge(s.bridge);
  const host = [
    ...(s.mode === "bridge" ? bridgeLines(s.bridge, s.gateway, s.prefixLen) : []),
    `link set ${s.host} mtu ${s.mtu}`,
    ...(s.mode === "bridge" ? [`link set ${s.host} master ${s.bridge}`] : []),
    `link set ${s.host} up`,
  ];
  const inside = { ifname: s.ifname, mac: s.mac, mtu: s.mtu, address: s.address, prefixLen: s.prefixLen, gateway: s.gateway };
  const [h, c] = await Promise.allSettled([ipBatch(host), configureContainer(s.netns, inside)]);
  if (h.status === "rejected") throw h.reason;
  if (c.status === "rejected") {
    // A leftover host end whose peer is not in this netns: start over once.
    if (!(c.reason instanceof ExecError)) throw c.reason;
    await deleteLink(s.host);
    await ipBatch([...pairLines(s), ...host]);
    await configureContainer(s.netns, inside);
  }
  if (s.mode === "ovs") await addOvsPort(s.ovsdb, s.bridge, s.host, s.portId);
  return { hostMac: linkMac(s.host) ?? "", bridgeMac: s.mode === "bridge" ? linkMac(s.bridge) : undefined };
}

export async function detach(mode: NovanetMode, ovsdb: string | undefined, ovsBridge: string, host: string): Promise<void> {
  if (mode === "ovs") await delOvsPort(ovsdb, ovsBridge, host);
  // Deleting the host end removes the peer inside the netns too.
  await deleteLink(host);
}
