// NovaNET over gRPC (see grpc.ts for the transport). Loaded only by verbs
// that talk to NovaNET, so VERSION and CHECK never pay for it. The bearer
// token is read from token_file per invocation and sent as
// `authorization: Bearer <token>`; it is never logged or put into an error.
import { readFileSync } from "node:fs";
import { PortServiceService, SubnetServiceService, type Port, type Subnet } from "@plasmacloud/proto/novanet";
import type { ServerConf } from "../config/config.js";
import { CniCode, CniError } from "../errors.js";
import { NovanetError, type NovanetApi, type NovanetErrorKind, type PortInfo, type SubnetInfo } from "./api.js";
import { GrpcError, GrpcStatus, GrpcTransport, type UnaryMethod } from "./grpc.js";

function readFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new CniError(CniCode.IoFailure, `cannot read ${what}`, `${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

const kinds: Partial<Record<number, NovanetErrorKind>> = {
  [GrpcStatus.UNAVAILABLE]: "unavailable",
  [GrpcStatus.DEADLINE_EXCEEDED]: "unavailable",
  [GrpcStatus.UNAUTHENTICATED]: "unauthenticated",
  [GrpcStatus.PERMISSION_DENIED]: "unauthenticated",
  [GrpcStatus.NOT_FOUND]: "not_found",
  [GrpcStatus.ALREADY_EXISTS]: "already_exists",
  [GrpcStatus.RESOURCE_EXHAUSTED]: "exhausted",
  [GrpcStatus.INVALID_ARGUMENT]: "invalid",
};

const toSubnet = (s: Subnet): SubnetInfo => ({
  id: s.id, cidr: s.cidr, gatewayIp: s.gatewayIp, dnsServers: s.dnsServers, dnsSearch: s.dnsSearch, mtu: s.mtu,
});
const toPort = (p: Port): PortInfo => ({
  id: p.id, subnetId: p.subnetId, deviceId: p.deviceId, deviceOwner: p.deviceOwner, name: p.name,
  macAddress: p.macAddress, ipAddress: p.ipAddress, ipPrefixLen: p.ipPrefixLen,
});

export function connectNovanet(s: ServerConf): NovanetApi {
  const token = s.tokenFile ? readFile(s.tokenFile, "novanet.token_file").toString("utf8").trim() : "";
  const tls = s.tls && {
    ca: s.tls.caFile ? readFile(s.tls.caFile, "novanet.tls.ca_file") : undefined,
    cert: s.tls.certFile ? readFile(s.tls.certFile, "novanet.tls.cert_file") : undefined,
    key: s.tls.keyFile ? readFile(s.tls.keyFile, "novanet.tls.key_file") : undefined,
    serverName: s.tls.serverName,
  };
  const transport = new GrpcTransport({ addr: s.addr, tls });
  const md: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};

  async function call<Req, Res>(method: string, m: UnaryMethod<Req, Res>, req: Req): Promise<Res> {
    try {
      return await transport.unary(m, req, md, s.timeoutMs);
    } catch (e) {
      if (e instanceof GrpcError) throw new NovanetError(kinds[e.code] ?? "other", method, e.details);
      throw e;
    }
  }

  return {
    getSubnet: async (t, id) => toSubnet(await call("GetSubnet", SubnetServiceService.getSubnet, { ...t, id })),
    listSubnets: async (t) => (await call("ListSubnets", SubnetServiceService.listSubnets, { ...t })).subnets.map(toSubnet),
    listPortsByDevice: async (t, deviceId) =>
      (await call("ListPorts", PortServiceService.listPorts, { ...t, deviceId, subnetId: "" })).ports.map(toPort),
    listPortsBySubnet: async (t, subnetId) =>
      (await call("ListPorts", PortServiceService.listPorts, { ...t, deviceId: "", subnetId })).ports.map(toPort),
    createPort: async (t, p) => toPort(await call("CreatePort", PortServiceService.createPort, { ...t, ...p, ipAddress: "" })),
    deletePort: async (t, id) => {
      try {
        await call("DeletePort", PortServiceService.deletePort, { ...t, id });
      } catch (e) {
        if (!(e instanceof NovanetError && e.kind === "not_found")) throw e;
      }
    },
    close: () => transport.close(),
  };
}
