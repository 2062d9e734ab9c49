// OVS mode: TX checksum offload off on the pod's end of the veth.
// A veth with TX checksumming on hands its peer TCP/UDP packets whose checksum
// is only partial (CHECKSUM_PARTIAL: the last hop that has the skb finishes
// it). OVS's userspace datapath (datapath_type=netdev: the node stack here,
// any DPDK node) reads them from an AF_PACKET socket without that note and
// forwards them as they are, so the receiving pod drops every TCP segment and
// UDP datagram while ping (checksummed in software) works. With TX
// checksumming off (TSO goes with it) the pod's stack checksums in software.
// It must be the pod's end: the host end's setting only covers what OVS
// writes into it, which is already complete (tried: TCP still fails).
// iproute2 cannot change device features, so this is `ethtool -K`; run by the
// attachment's host `ip -batch` (`netns exec`, forked by ip while ADD waits for
// NovaNET), not as another process of ours.
import { run, tool } from "./exec.js";
import { netnsName } from "./ip.js";

/** `ip -batch` lines that turn TX checksumming off on `ifname` inside the named netns; [] for other netns paths. */
export function txOffLines(netns: string, ifname: string): string[] {
  const name = netnsName(netns);
  return name ? [`netns exec ${name} ${tool("ethtool")} -K ${ifname} tx off`] : [];
}

/** The same for a netns that is not under /run/netns (no name for `ip netns exec`): its own nsenter. */
export async function txOffByPath(netns: string, ifname: string): Promise<void> {
  if (netnsName(netns)) return;
  await run("nsenter", [`--net=${netns}`, tool("ethtool"), "-K", ifname, "tx", "off"]);
}
