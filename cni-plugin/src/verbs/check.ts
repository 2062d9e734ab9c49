// CHECK: the netns must still hold what ADD reported (prevResult, or our
// cache when the runtime sends none): the interface with its MAC, the
// address, the default route via the gateway; the host veth must still be
// plugged into its bridge / OVS with the right iface-id. No NovaNET call.
import type { NetConf } from "../config/config.js";
import { readCache } from "../cache/cache.js";
import type { CniEnv } from "../env.js";
import { CniCode, CniError } from "../errors.js";
import { showLink } from "../plumbing/link.js";
import { hostVethName } from "../plumbing/names.js";
import { netnsExists, readContainer } from "../plumbing/netns.js";
import { ovsIfaceId } from "../plumbing/ovs.js";
import type { CniResult } from "../result.js";

const fail = (msg: string, details = ""): CniError => new CniError(CniCode.CheckFailed, msg, details);

export async function check(env: CniEnv, conf: NetConf): Promise<undefined> {
  const cached = readCache(conf.cacheDir, conf.name, env.containerId, env.ifname);
  const prev: CniResult | undefined = conf.prevResult ?? cached?.result;
  if (!prev) throw fail("no prevResult and no cached result for this attachment");
  if (!netnsExists(env.netns)) throw new CniError(CniCode.UnknownContainer, "network namespace does not exist", env.netns);
  const ifaces = prev.interfaces ?? [];
  const idx = ifaces.findIndex((i) => i.name === env.ifname && i.sandbox);
  if (idx < 0) throw fail(`prevResult has no sandbox interface ${env.ifname}`);
  const want = ifaces[idx] as NonNullable<(typeof ifaces)[number]>;
  const ips = (prev.ips ?? []).filter((ip) => ip.interface === idx);

  const { link, routes } = await readContainer(env.netns, env.ifname);
  if (!link) throw fail(`interface ${env.ifname} is missing from ${env.netns}`);
  if (want.mac && link.address.toLowerCase() !== want.mac.toLowerCase()) {
    throw fail(`interface ${env.ifname} has MAC ${link.address}, expected ${want.mac}`);
  }
  for (const ip of ips) {
    const [addr, plen] = ip.address.split("/");
    if (!link.addr_info.some((a) => a.local === addr && String(a.prefixlen) === plen)) {
      throw fail(`interface ${env.ifname} lacks address ${ip.address}`);
    }
  }
  for (const r of prev.routes ?? []) {
    const dst = r.dst === "0.0.0.0/0" ? "default" : r.dst;
    if (!routes.some((x) => x.dst === dst && (!r.gw || x.gateway === r.gw))) {
      throw fail(`route ${r.dst}${r.gw ? ` via ${r.gw}` : ""} is missing in ${env.netns}`);
    }
  }

  const hostName = cached?.novanet?.hostVeth ?? hostVethName(env.containerId, env.ifname);
  const host = await showLink(hostName);
  if (!host) throw fail(`host veth ${hostName} is missing`);
  if (conf.mode === "bridge") {
    const br = cached?.novanet?.bridge ?? ifaces[0]?.name;
    if (!host.master || host.master !== br) throw fail(`host veth ${hostName} is not in bridge ${br ?? "?"}`, `master: ${host.master ?? "none"}`);
  } else {
    const id = await ovsIfaceId(conf.ovsdb, hostName);
    if (!id) throw fail(`host veth ${hostName} is not an OVS port with an iface-id`);
    if (cached?.novanet && id !== cached.novanet.portId) throw fail(`OVS iface-id of ${hostName} is ${id}, expected ${cached.novanet.portId}`);
  }
  return undefined;
}
