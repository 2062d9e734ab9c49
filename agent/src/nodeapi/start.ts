// The node API as the agent runs it: from the config's server block, with the
// control plane's token review and pod lookup. Off (undefined) without a
// certificate: the API is never served without TLS.
import { existsSync } from "node:fs";
import { CodedError, errorMessage } from "@plasmacloud/common/errors";
import type { Logger } from "@plasmacloud/common/log";
import type { AgentConfig } from "../config/schema";
import type { ControlPlane } from "../controlplane/client";
import type { PodRuntime } from "../runtime/types";
import { Authenticator, controlPlaneReview } from "./authn";
import { controlPlanePods } from "./authz";
import { startNodeApi, type NodeApi } from "./server";

export async function startConfiguredNodeApi(cfg: AgentConfig, cp: ControlPlane, runtime: PodRuntime, log: Logger): Promise<NodeApi | undefined> {
  const s = cfg.server;
  if (!s.certFile) {
    log.info({}, "node API off: server.certFile and server.keyFile are not set (exec, attach, port-forward and remote logs need it)");
    return undefined;
  }
  for (const f of ["certFile", "keyFile"] as const) {
    if (!existsSync(s[f])) throw new CodedError("InvalidArgument", `config field 'server.${f}': ${s[f]} does not exist`, { field: `server.${f}` });
  }
  try {
    const api = await startNodeApi({
      address: s.address,
      port: s.port,
      certFile: s.certFile,
      keyFile: s.keyFile,
      nodeName: cfg.nodeName,
      podLogsDir: cfg.podLogsDir,
      authn: new Authenticator(controlPlaneReview(cp), s.tokenReviewCacheSeconds * 1000),
      pods: controlPlanePods(cp),
      runtime,
      log,
    });
    log.info({ address: `${s.address}:${api.port}` }, "node API serving (TLS)");
    return api;
  } catch (err) {
    throw new CodedError("Unavailable", `node API cannot serve on ${s.address}:${s.port}: ${errorMessage(err)}`);
  }
}
