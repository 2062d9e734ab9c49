// DEL: idempotent teardown. Local state goes first (OVS port, host veth,
// which takes the container end with it), then the NovaNET port is released
// by ListPorts(device_id), which works even when the netns is long gone. The
// cache entry is removed last, so a failed release can still be retried/GC'd.
import type { NetConf } from "../config/config.js";
import { readCache, removeCache } from "../cache/cache.js";
import type { CniEnv } from "../env.js";
import { log, trace } from "../log.js";
import type { NovanetApi, Tenant } from "../novanet/api.js";
import { detach } from "../plumbing/attach.js";
import { hostVethName } from "../plumbing/names.js";
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
      return await releasePorts(api, { orgId, projectId }, conf.name, env).catch((e: unknown) => { throw fromNovanet(e, "releasing the port"); });
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
