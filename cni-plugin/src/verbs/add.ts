// ADD: find-or-create the NovaNET port for (container, network/ifname), read
// the subnet (gateway, DNS, MTU come from NovaNET, never guessed), plumb the
// veth, cache and print the result. Anything this call created is rolled back
// on failure. On OVN (netconf `ovn`) it also makes the node's management port
// when missing (plumbing/management.ts) and returns only once ovn-controller
// has installed the port's flows (plumbing/ovn.ts).
import { errorCode } from "@plasmacloud/common/errors";
import { requireTenant, type NetConf } from "../config/config.js";
import { writeCache } from "../cache/cache.js";
import type { CniEnv } from "../env.js";
import { CniCode, CniError } from "../errors.js";
import { log, trace } from "../log.js";
import type { NovanetApi, PortInfo, SubnetInfo, Tenant } from "../novanet/api.js";
import { abandon, begin, configure, type Started } from "../plumbing/attach.js";
import { detach } from "../plumbing/detach.js";
import { linkExists } from "../plumbing/link.js";
import { attachedNetworks, ensureManagement, readManagement, routeLine } from "../plumbing/management.js";
import { bridgeName, hostVethName, vethAlias } from "../plumbing/names.js";
import { netnsExists } from "../plumbing/netns.js";
import { waitInstalled, type Awaited } from "../plumbing/ovn.js";
import { convertResult, mergeResults, type CniResult } from "../result.js";
import { deviceOwner, fromNovanet, openNovanet, portName } from "./common.js";

/**
 * Creates the attachment's port; a repeated ADD (or a concurrent one) meets
 * a Conflict (ALREADY_EXISTS) and takes the port that is there. Create-first saves a round
 * trip on the common path.
 */
async function createOrFindPort(api: NovanetApi, t: Tenant, subnetId: string, deviceId: string, name: string, owner = deviceOwner()):
  Promise<{ port: PortInfo; created: boolean }> {
  try {
    return { port: await api.createPort(t, { subnetId, deviceId, deviceOwner: owner, name }), created: true };
  } catch (e) {
    if (errorCode(e) !== "Conflict") throw e;
    const port = (await api.listPortsByDevice(t, deviceId)).find((p) => p.name === name);
    if (!port) throw e;
    return { port, created: false };
  }
}

export async function add(env: CniEnv, conf: NetConf, stdin: string): Promise<CniResult> {
  const ids = requireTenant(conf, ["orgId", "projectId", "subnetId"]);
  if (!netnsExists(env.netns)) throw new CniError(CniCode.UnknownContainer, "network namespace does not exist", env.netns);
  const t: Tenant = { orgId: ids.orgId, projectId: ids.projectId };
  const name = portName(conf.name, env.ifname);
  const host = hostVethName(env.containerId, env.ifname);
  let port: PortInfo | undefined;
  let portCreated = false;
  // A host veth from an earlier ADD of this attachment is not ours to roll back.
  const hostExisted = linkExists(host);
  // Nothing exists yet: a client that cannot start (token file) fails alone.
  const api = await openNovanet(conf);
  trace("client loaded");
  // Ask NovaNET first, then make the veth pair (it needs nothing from
  // NovaNET): both calls are on the wire while `ip` runs. The netns side's
  // `ip` starts once they are sent (spawning blocks this thread).
  const calls = Promise.allSettled([api.getSubnet(t, ids.subnetId), createOrFindPort(api, t, ids.subnetId, env.containerId, name)]);
  // The node's management port: made by an earlier ADD (its ifalias says so),
  // else asked for now on the same connection, so still one round trip.
  const mgmt = conf.ovn?.management;
  const made = mgmt ? readManagement(mgmt.ifname) : undefined;
  const mp = mgmt && made?.subnetId === mgmt.subnetId ? made : undefined;
  const mpCalls = mgmt && !mp ? askManagement(api, mgmt) : undefined;
  let started: Started | undefined = begin({ mode: conf.mode, host, ifname: env.ifname, netns: env.netns, alias: vethAlias(conf.name, env.containerId, env.ifname) }, api.sent());
  const pair = started.pair;
  const bridge = conf.mode === "bridge" ? bridgeName(conf.bridge, ids.subnetId) : conf.bridge;
  try {
    const [s, p] = await calls;
    if (p.status === "fulfilled") ({ port, created: portCreated } = p.value);
    if (s.status === "rejected") throw fromNovanet(s.reason, `getting subnet ${ids.subnetId}`);
    if (p.status === "rejected") throw fromNovanet(p.reason, "creating the port");
    const subnet = s.value;
    port = p.value.port;
    if (port.subnetId !== ids.subnetId) {
      throw new CniError(CniCode.NovanetRejected, "attachment already has a port in another subnet", `port ${port.id} is in ${port.subnetId}`);
    }
    const mtu = conf.mtu ?? (subnet.mtu || 1500);
    trace("port ready");
    await pair;
    trace("veth pair ready");
    const fed = started;
    started = undefined; // configure() uses it up
    const att = await configure({
      mode: conf.mode, bridge, ovsdb: conf.ovsdb, portId: port.id,
      host, alias: vethAlias(conf.name, env.containerId, env.ifname, port.id), ifname: env.ifname, netns: env.netns,
      mac: port.macAddress, mtu, address: port.ipAddress, prefixLen: port.ipPrefixLen, gateway: subnet.gatewayIp,
      ovn: conf.ovn !== undefined, hostLines: mgmt && mp ? [routeLine(mgmt.ifname, subnet.cidr, mp.gateway)] : [],
    }, fed);
    trace("configured");
    if (conf.ovn) {
      await ovnReady(conf, conf.ovn, { iface: host, ifaceId: port.id, what: "pod port" }, subnet.cidr, mpCalls);
      trace("ovn installed");
    }
    const interfaces = [
      ...(conf.mode === "bridge" ? [{ name: bridge, mac: att.bridgeMac ?? "" }] : []),
      { name: host, mac: att.hostMac },
      { name: env.ifname, mac: port.macAddress, mtu, sandbox: env.netns },
    ];
    const ours: CniResult = {
      cniVersion: conf.cniVersion,
      interfaces,
      ips: [{ address: `${port.ipAddress}/${port.ipPrefixLen}`, gateway: subnet.gatewayIp, interface: interfaces.length - 1 }],
      routes: [{ dst: "0.0.0.0/0", gw: subnet.gatewayIp }],
      dns: subnet.dnsServers.length || subnet.dnsSearch.length
        ? { nameservers: subnet.dnsServers, ...(subnet.dnsSearch.length ? { search: subnet.dnsSearch } : {}) } : undefined,
    };
    const result = convertResult(mergeResults(conf.prevResult, ours), conf.cniVersion);
    writeCache(conf.cacheDir, {
      kind: "cniCacheV1", containerId: env.containerId, ifName: env.ifname, networkName: conf.name,
      config: Buffer.from(stdin).toString("base64"), cniArgs: env.args, result,
      novanet: { portId: port.id, hostVeth: host, mode: conf.mode, bridge, orgId: t.orgId, projectId: t.projectId, subnetId: ids.subnetId },
    });
    log.info({ containerId: env.containerId, ifname: env.ifname, port: port.id, ip: port.ipAddress, pod: conf.pod }, "ADD done");
    return result;
  } catch (e) {
    if (started) await abandon(started);
    await pair.catch(() => undefined); // let creation settle before removing
    await rollback(api, t, conf, host, !hostExisted, portCreated ? port : undefined);
    throw e;
  } finally {
    api.close();
  }
}

/**
 * On OVN: the management port, when this ADD asked NovaNET for it, then the
 * wait for ovn-controller to have installed the pod's (and that port's) flows.
 */
async function ovnReady(conf: NetConf, ovn: NonNullable<NetConf["ovn"]>, pod: Awaited, cidr: string, mpCalls?: Promise<[SubnetInfo, PortInfo]>): Promise<void> {
  const awaited = [pod];
  const m = ovn.management;
  if (m && mpCalls) {
    const [ms, mp] = await mpCalls.catch((e: unknown) => { throw fromNovanet(e, `making this node's management port in subnet ${m.subnetId}`); });
    await ensureManagement({
      ifname: m.ifname, bridge: conf.bridge, ovsdb: conf.ovsdb, subnetId: m.subnetId, portId: mp.id, gateway: ms.gatewayIp,
      mac: mp.macAddress, address: mp.ipAddress, prefixLen: mp.ipPrefixLen, mtu: conf.mtu ?? (ms.mtu || 1500),
      // A port made again (it lost its settings) routes every subnet with a pod here, not only this one.
      routes: [...new Set([cidr, ...attachedNetworks(conf.cacheDir, conf.name)])],
    });
    awaited.push({ iface: m.ifname, ifaceId: mp.id, what: "management port" });
  }
  await waitInstalled(conf.ovsdb, awaited, ovn.installedTimeoutMs);
}

/** The management subnet and this node's port in it (NovaNET's own tenant; the node's token may act for it). */
function askManagement(api: NovanetApi, m: NonNullable<NonNullable<NetConf["ovn"]>["management"]>): Promise<[SubnetInfo, PortInfo]> {
  const t = { orgId: m.orgId, projectId: m.projectId };
  const { hostname } = process.getBuiltinModule("node:os") as typeof import("node:os");
  const p = Promise.all([api.getSubnet(t, m.subnetId),
    createOrFindPort(api, t, m.subnetId, `node:${hostname()}`, `management/${m.ifname}`, `novanet-management@${hostname()}`).then((r) => r.port)]);
  p.catch(() => undefined); // awaited after the pod's own plumbing
  return p;
}

async function rollback(api: NovanetApi, t: Tenant, conf: NetConf, host: string, removeVeth: boolean, port: PortInfo | undefined): Promise<void> {
  // Best effort: the original error is what the runtime must see.
  if (removeVeth) {
    await detach(conf.mode, conf.ovsdb, conf.bridge, host).catch((e: unknown) => log.warn({ err: e }, "rollback: veth"));
  }
  if (port) await api.deletePort(t, port.id).catch((e: unknown) => log.warn({ port: port.id, err: e }, "rollback: port"));
}
