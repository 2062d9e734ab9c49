// STATUS: can we serve ADD? Only NovaNET matters: unreachable, or refusing
// our credentials, is error 50; any answer at all (even NOT_FOUND) is ready.
import type { NetConf } from "../config/config.js";
import { CniCode, CniError } from "../errors.js";
import { NovanetError } from "../novanet/api.js";
import { openNovanet } from "./common.js";

export async function status(conf: NetConf): Promise<undefined> {
  const quick: NetConf = { ...conf, server: { ...conf.server, timeoutMs: Math.min(conf.server.timeoutMs, 3000) } };
  let api;
  try {
    api = await openNovanet(quick);
  } catch (e) {
    throw new CniError(CniCode.PluginNotAvailable, "NovaNET client cannot start", e instanceof Error ? e.message : String(e));
  }
  const t = { orgId: conf.tenant.orgId ?? "", projectId: conf.tenant.projectId ?? "" };
  try {
    if (conf.tenant.subnetId) await api.getSubnet(t, conf.tenant.subnetId);
    else await api.listSubnets(t);
  } catch (e) {
    if (e instanceof NovanetError && (e.kind === "unavailable" || e.kind === "unauthenticated")) {
      throw new CniError(CniCode.PluginNotAvailable, `NovaNET is ${e.kind === "unavailable" ? "unreachable" : "refusing our credentials"}`, e.message);
    }
    if (!(e instanceof NovanetError)) throw e;
  } finally {
    api.close();
  }
  return undefined;
}
