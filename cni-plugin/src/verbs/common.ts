// Helpers shared by the verbs: lazy NovaNET client, error mapping, names.
import type { ErrorCode } from "@plasmacloud/common/errors";
import { GrpcCallError } from "@plasmacloud/common/grpc";
import type { NetConf } from "../config/config.js";
import { CniCode, CniError } from "../errors.js";
import type { NovanetApi } from "../novanet/api.js";

/** Loads the gRPC client only now, so VERSION/CHECK never pay for it. */
export async function openNovanet(conf: NetConf): Promise<NovanetApi> {
  const { connectNovanet } = await import("../novanet/client.js");
  return connectNovanet(conf.server);
}

const unavailable = [CniCode.TryAgainLater, "NovaNET unavailable"] as const;
const refused = [CniCode.NovanetAuth, "NovaNET rejected the credentials"] as const;
/** The plugin's one map from a NovaNET failure's error code to the CNI code the runtime acts on. */
const cniCodes: Partial<Record<ErrorCode, readonly [number, string]>> = {
  Unavailable: unavailable,
  DeadlineExceeded: unavailable,
  Unauthenticated: refused,
  PermissionDenied: refused,
  NotFound: [CniCode.UnknownSubnet, "NovaNET: not found"],
  ResourceExhausted: [CniCode.SubnetExhausted, "NovaNET: subnet has no free address"],
};

/** A failed NovaNET call as the CNI error the runtime can act on; `what` says what the plugin was doing. */
export function novanetCniError(e: GrpcCallError, what: string): CniError {
  const [code, msg] = cniCodes[e.code] ?? [CniCode.NovanetRejected, "NovaNET refused the request"];
  return new CniError(code, `${msg} while ${what}`, `NovaNET ${e.message}`);
}

/** novanetCniError for NovaNET failures; anything else passes through. */
export function fromNovanet(e: unknown, what: string): unknown {
  return e instanceof GrpcCallError ? novanetCniError(e, what) : e;
}

/** Port name: unique per device, so one pod may hold one port per network+ifname. */
export function portName(network: string, ifname: string): string {
  return `${network}/${ifname}`;
}

/** Marks ports made by this node's plugin, so GC only ever touches its own. */
export function deviceOwner(): string {
  // node:os only when asked (ADD, GC): DEL need not load it.
  const { hostname } = process.getBuiltinModule("node:os") as typeof import("node:os");
  return `cni:novanet@${hostname()}`;
}
