// Helpers shared by the verbs: lazy NovaNET client, error mapping, names.
import { hostname } from "node:os";
import type { NetConf } from "../config/config.js";
import { CniCode, CniError } from "../errors.js";
import { NovanetError, type NovanetApi } from "../novanet/api.js";

/** Loads @grpc/grpc-js only now, so VERSION/CHECK never pay for it. */
export async function openNovanet(conf: NetConf): Promise<NovanetApi> {
  const { connectNovanet } = await import("../novanet/client.js");
  return connectNovanet(conf.server);
}

/** A NovaNET failure as a CNI error the runtime can act on. */
export function fromNovanet(e: unknown, what: string): unknown {
  if (!(e instanceof NovanetError)) return e;
  switch (e.kind) {
    case "unavailable": return new CniError(CniCode.TryAgainLater, `NovaNET unavailable while ${what}`, e.message);
    case "unauthenticated": return new CniError(CniCode.NovanetAuth, `NovaNET rejected the credentials while ${what}`, e.message);
    case "not_found": return new CniError(CniCode.UnknownSubnet, `NovaNET: not found while ${what}`, e.message);
    case "exhausted": return new CniError(CniCode.SubnetExhausted, `NovaNET: subnet has no free address while ${what}`, e.message);
    default: return new CniError(CniCode.NovanetRejected, `NovaNET refused the request while ${what}`, e.message);
  }
}

/** Port name: unique per device, so one pod may hold one port per network+ifname. */
export function portName(network: string, ifname: string): string {
  return `${network}/${ifname}`;
}

/** Marks ports made by this node's plugin, so GC only ever touches its own. */
export function deviceOwner(): string {
  return `cni:novanet@${hostname()}`;
}
