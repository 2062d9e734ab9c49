// One attachment's host plumbing, in two phases so the slow parts overlap:
//   begin()       before NovaNET has answered: the veth pair, its container
//                 end created directly inside the netns (needs no port data),
//                 by an `ip` on the host that stays open; a second `ip`,
//                 inside the netns, started and waiting;
//   configure()   with port + subnet: MAC/MTU/address/route inside the netns
//                 and bridge/OVS membership outside, fed to those two `ip`s,
//                 which run in parallel. Two processes per ADD, their exec
//                 paid while NovaNET answers. In ovs mode the host `ip` also
//                 turns the pod end's TX checksumming off right after making
//                 the pair (offload.ts), still while NovaNET answers.
// Both are idempotent (a repeated ADD re-applies settings). Undoing it is
// detach.ts, apart so that DEL loads none of this.
import { ExecError } from "@plasmacloud/common/errors";
import type { NovanetMode } from "@plasmacloud/proto/netconf";
import { bridgeLines, ensureBridge } from "./bridge.js";
import { ipBatch, ipSession, type IpSession } from "./ip.js";
import { deleteLink, linkExists, linkMac } from "./link.js";
import { configureContainer, containerLines } from "./netns.js";
import { txOffByPath, txOffLines } from "./offload.js";
import { addOvsPort } from "./ovs.js";

export interface PairSpec {
  mode: NovanetMode;
  host: string;
  /** Container-side name (CNI_IFNAME). */
  ifname: string;
  netns: string;
  /** Written to the host end's ifalias: see names.ts. */
  alias: string;
}

export interface AttachSpec extends PairSpec {
  /** OVS integration bridge or the subnet's Linux bridge. */
  bridge: string;
  ovsdb?: string;
  portId: string;
  mac: string;
  mtu: number;
  address: string;
  prefixLen: number;
  gateway: string;
  /** OVN's br-int: the OVS port is waited for later (ovn.ts), not here. */
  ovn?: boolean;
  /** More host `ip` lines, run with the veth's (the pod subnet's route through the management port). */
  hostLines?: string[];
}

export interface Attached {
  hostMac: string;
  bridgeMac?: string;
}

const pairLines = (p: PairSpec): string[] => [
  `link add ${p.host} type veth peer name ${p.ifname} netns ${p.netns}`,
  `link set ${p.host} alias ${p.alias}`,
];
/** Lines that must follow the pair's creation (or be re-applied to a pair that was there). */
const afterPairLines = (p: PairSpec): string[] => (p.mode === "ovs" ? txOffLines(p.netns, p.ifname) : []);

/**
 * The attachment's two `ip` processes, started before NovaNET has answered:
 * the host one creates the veth pair at once (unless its host end exists: a
 * repeated ADD) and stays open for configure(); the netns one starts once
 * `after` settles (ADD passes "the NovaNET calls are on the wire": a spawn
 * blocks this thread) and waits for its lines.
 */
export interface Started {
  /** Resolves once the pair exists: true if this call created it. */
  pair: Promise<boolean>;
  host: IpSession;
  inside: Promise<IpSession>;
}

export function begin(p: PairSpec, after: Promise<unknown>): Started {
  const host = ipSession();
  let pair: Promise<boolean> = Promise.resolve(false);
  if (!linkExists(p.host)) {
    // ip prints first for the `link show`: its output says the lines before it are done.
    // What follows it runs while the caller waits for NovaNET (ethtool may print too).
    host.send([...pairLines(p), `link show dev ${p.host}`, ...afterPairLines(p)]);
    pair = host.output().then(() => true);
  }
  pair.catch(() => undefined); // the caller awaits it
  const inside = after.then(() => ipSession(p.netns), () => ipSession(p.netns));
  return { pair, host, inside };
}

/** Ends what begin() started, for an ADD that fails before configure(). */
export async function abandon(s: Started): Promise<void> {
  s.host.cancel();
  (await s.inside).cancel();
}

/** Uses up what begin() started, whatever happens. */
export async function configure(s: AttachSpec, started: Started): Promise<Attached> {
  const sessions = { host: started.host, inside: await started.inside };
  // A pair that was already there (a repeated ADD) gets its settings again.
  const created = await started.pair.catch(() => false);
  try {
    if (s.mode === "bridge") await ensureBridge(s.bridge);
  } catch (e) {
    sessions.host.cancel();
    sessions.inside.cancel();
    throw e;
  }
  const host = [
    ...(s.mode === "bridge" ? bridgeLines(s.bridge, s.gateway, s.prefixLen) : []),
    // The alias again, now with the port id (see names.ts): DEL's one call.
    `link set ${s.host} alias ${s.alias}`,
    `link set ${s.host} mtu ${s.mtu}`,
    ...(s.mode === "bridge" ? [`link set ${s.host} master ${s.bridge}`] : []),
    `link set ${s.host} up`,
    ...(s.hostLines ?? []),
  ];
  const inside = { ifname: s.ifname, mac: s.mac, mtu: s.mtu, address: s.address, prefixLen: s.prefixLen, gateway: s.gateway };
  // Re-applied inside, after the lines that fail when the pod end is not there (see below).
  const insideLines = [...containerLines(inside), ...(created ? [] : afterPairLines(s))];
  const [h, c, o] = await Promise.allSettled([sessions.host.run(host), sessions.inside.run(insideLines),
    s.mode === "ovs" ? txOffByPath(s.netns, s.ifname) : undefined]);
  if (h.status === "rejected") throw h.reason;
  if (c.status === "rejected") {
    // A leftover host end whose peer is not in this netns: start over once.
    if (!(c.reason instanceof ExecError)) throw c.reason;
    await deleteLink(s.host);
    await ipBatch([...pairLines(s), ...afterPairLines(s), ...host]);
    await configureContainer(s.netns, inside);
    if (s.mode === "ovs") await txOffByPath(s.netns, s.ifname);
  } else if (o.status === "rejected") throw o.reason;
  if (s.mode === "ovs") await addOvsPort(s.ovsdb, s.bridge, s.host, s.portId, !s.ovn);
  return { hostMac: linkMac(s.host) ?? "", bridgeMac: s.mode === "bridge" ? linkMac(s.bridge) : undefined };
}
