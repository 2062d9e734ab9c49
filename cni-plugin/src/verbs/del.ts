// DEL: idempotent teardown. Local state (OVS port, host veth, which takes
// the container end with it) and the NovaNET port go in parallel. The port is
// released by its id when this node recorded it (our cache entry, else the
// host veth's alias, which survives libcni overwriting the cache): one
// NovaNET call. Without either, ListPorts(device_id) finds it, which works
// even when the netns and the veth are long gone. The cache entry is removed
// last, so a failed release can still be retried/GC'd.
import type { NetConf } from "../config/config.js";
import { readCache, removeCache } from "../cache/cache.js";
import type { CniEnv } from "../env.js";
import { log, trace } from "../log.js";
import type { NovanetApi, Tenant } from "../novanet/api.js";
import { detach } from "../plumbing/detach.js";
import { linkAlias } from "../plumbing/link.js";
import { hostVethName, parseVethAlias } from "../plumbing/names.js";
import { fromNovanet, openNovanet, portName } from "./common.js";

export interface DelTarget { containerId: string; ifname: string }

/** Releases every port of the attachment; shared with GC. */
export async function releasePorts(api: NovanetApi, t: Tenant, network: string, a: DelTarget): Promise<number> {
  const name = portName(network, a.ifname);
  const ports = (await api.listPortsByDevice(t, a.containerId)).filter((p) => p.name === name);
  for (const p of ports) await api.deletePort(t, p.id);
  return ports.length;
}

export async function del(env: CniEnv, conf: NetConf): Promise<undefined> {
  const cached = readCache(conf.cacheDir, conf.name, env.containerId, env.ifname);
  const host = cached?.novanet?.hostVeth ?? hostVethName(env.containerId, env.ifname);
  const orgId = conf.tenant.orgId ?? cached?.novanet?.orgId;
  const projectId = conf.tenant.projectId ?? cached?.novanet?.projectId;
  // Read before the veth goes. Only an alias naming this very attachment counts.
  const alias = parseVethAlias(linkAlias(host) ?? "");
  const portId = cached?.novanet?.portId
    ?? (alias && alias.network === conf.name && alias.containerId === env.containerId && alias.ifname === env.ifname ? alias.portId : undefined);
  // Deleting a veth waits for the kernel (RCU): overlap it with NovaNET.
  const local = detach(cached?.novanet?.mode ?? conf.mode, conf.ovsdb, conf.mode === "ovs" ? conf.bridge : "br-int", host);
  const remote = (async () => {
    if (!orgId || !projectId) {
      // ADD refuses to run without a tenant and caches the one it used, so an
      // attachment with neither never reached NovaNET: only local state can
      // exist. Failing here would pin its sandbox in the runtime for good.
      log.warn({ containerId: env.containerId }, "DEL without a tenant: no NovaNET port can exist, local cleanup only");
      return 0;
    }
    const api = await openNovanet(conf);
    try {
      const t = { orgId, projectId };
      const released = portId ? api.deletePort(t, portId).then(() => 1) : releasePorts(api, t, conf.name, env);
      return await released.catch((e: unknown) => { throw fromNovanet(e, "releasing the port"); });
    } finally {
      api.close();
    }
  })();
  void local.then(() => trace("local detached"), () => undefined);
  void remote.then(() => trace("ports released"), () => undefined);
  const [l, r] = await Promise.allSettled([local, remote]);
  if (l.status === "rejected") throw l.reason;
  if (r.status === "rejected") throw r.reason;
  // Only now: a failed release leaves the entry for a retried DEL or GC.
  removeCache(conf.cacheDir, conf.name, env.containerId, env.ifname);
  log.info({ containerId: env.containerId, ifname: env.ifname, portsReleased: r.value }, "DEL done");
  return undefined;
}
