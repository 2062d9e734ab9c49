// GC (spec 1.1): everything of this network that is not in
// cni.dev/valid-attachments goes: host veths (found by their alias), cache
// entries, and the NovaNET ports behind them, plus ports this node created
// in the configured subnet that no valid attachment owns.
import { decode, type NetConf } from "../config/config.js";
import { resolveTenant } from "../config/tenant.js";
import { listCache, removeCache, type CacheEntry } from "../cache/cache.js";
import { CniCode, CniError } from "../errors.js";
import { log } from "../log.js";
import type { NovanetApi, Tenant } from "../novanet/api.js";
import { detach } from "../plumbing/detach.js";
import { listHostVeths } from "../plumbing/link.js";
import { parseVethAlias } from "../plumbing/names.js";
import { deviceOwner, fromNovanet, openNovanet, portName } from "./common.js";
import { releasePorts } from "./del.js";

const key = (containerId: string, ifname: string): string => `${containerId}/${ifname}`;

/** Tenant of a cached attachment: our record, else re-derived like ADD did. */
function tenantOf(e: CacheEntry, conf: NetConf): Tenant | undefined {
  if (e.novanet) return { orgId: e.novanet.orgId, projectId: e.novanet.projectId };
  try {
    const { tenant } = resolveTenant(decode(Buffer.from(e.config, "base64").toString("utf8")), e.cniArgs ?? []);
    const orgId = tenant.orgId ?? conf.tenant.orgId;
    const projectId = tenant.projectId ?? conf.tenant.projectId;
    return orgId && projectId ? { orgId, projectId } : undefined;
  } catch {
    return undefined;
  }
}

export async function gc(conf: NetConf): Promise<undefined> {
  if (!conf.validAttachments) throw new CniError(CniCode.InvalidConfig, "invalid network config: cni.dev/valid-attachments is required for GC");
  const valid = new Set(conf.validAttachments.map((a) => key(a.containerID, a.ifname)));
  const stale = new Map<string, { containerId: string; ifname: string; host?: string; entry?: CacheEntry }>();
  for (const e of listCache(conf.cacheDir, conf.name)) {
    if (!valid.has(key(e.containerId, e.ifName))) stale.set(key(e.containerId, e.ifName), { containerId: e.containerId, ifname: e.ifName, host: e.novanet?.hostVeth, entry: e });
  }
  for (const l of await listHostVeths()) {
    const a = l.ifalias ? parseVethAlias(l.ifalias) : undefined;
    if (!a || a.network !== conf.name || valid.has(key(a.containerId, a.ifname))) continue;
    const k = key(a.containerId, a.ifname);
    stale.set(k, { ...a, ...stale.get(k), host: l.ifname });
  }
  const errors: unknown[] = [];
  let api: NovanetApi | undefined;
  const getApi = async (): Promise<NovanetApi> => (api ??= await openNovanet(conf));
  try {
    for (const s of stale.values()) {
      try {
        if (s.host) await detach(s.entry?.novanet?.mode ?? conf.mode, conf.ovsdb, conf.mode === "ovs" ? conf.bridge : "br-int", s.host);
        const t = s.entry ? tenantOf(s.entry, conf) : conf.tenant.orgId && conf.tenant.projectId
          ? { orgId: conf.tenant.orgId, projectId: conf.tenant.projectId } : undefined;
        if (t) await releasePorts(await getApi(), t, conf.name, s);
        removeCache(conf.cacheDir, conf.name, s.containerId, s.ifname);
      } catch (e) {
        errors.push(fromNovanet(e, `collecting ${s.containerId}/${s.ifname}`));
      }
    }
    // Ports this node made in the configured subnet with no valid attachment.
    const { orgId, projectId, subnetId } = conf.tenant;
    if (orgId && projectId && subnetId) {
      const t = { orgId, projectId };
      const api2 = await getApi();
      try {
        for (const p of await api2.listPortsBySubnet(t, subnetId)) {
          if (p.deviceOwner !== deviceOwner() || !p.name.startsWith(`${conf.name}/`)) continue;
          const ifname = p.name.slice(conf.name.length + 1);
          if (p.name === portName(conf.name, ifname) && !valid.has(key(p.deviceId, ifname))) await api2.deletePort(t, p.id);
        }
      } catch (e) {
        errors.push(fromNovanet(e, "sweeping subnet ports"));
      }
    }
  } finally {
    api?.close();
  }
  log.info({ stale: stale.size, errors: errors.length }, "GC done");
  if (errors.length) throw errors[0];
  return undefined;
}
