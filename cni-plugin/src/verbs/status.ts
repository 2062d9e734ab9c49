// STATUS: can we serve ADD? Only NovaNET matters: unreachable, or refusing
// our credentials, is error 50; any answer at all (even NOT_FOUND) is ready.
import { GrpcCallError } from "@plasmacloud/common/grpc";
import type { NetConf } from "../config/config.js";
import { CniCode, CniError } from "../errors.js";
import { novanetCniError, openNovanet } from "./common.js";

export async function status(conf: NetConf): Promise<undefined> {
  const quick: NetConf = { ...conf, server: { ...conf.server, timeout_ms: Math.min(conf.server.timeout_ms, 3000) } };
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
    if (!(e instanceof GrpcCallError)) throw e;
    // What ADD would call "try again later" or "credentials rejected" means not ready.
    const c = novanetCniError(e, "probing");
    if (c.code === CniCode.TryAgainLater || c.code === CniCode.NovanetAuth) {
      throw new CniError(CniCode.PluginNotAvailable, `NovaNET is ${c.code === CniCode.TryAgainLater ? "unreachable" : "refusing our credentials"}`, c.details);
    }
  } finally {
    api.close();
  }
  return undefined;
}
