// NovaNET over gRPC (see grpc.ts for the transport). Loaded only by verbs
// that talk to NovaNET, so VERSION and CHECK never pay for it. The bearer
// token is read from token_file per invocation and sent as
// `authorization: Bearer <token>`; it is never logged or put into an error.
import { readFileSync } from "node:fs";
import { errorCode } from "@plasmacloud/common/errors";
import type { Port, Subnet } from "@plasmacloud/proto/novanet";
import type { ServerConf } from "../config/config.js";
import { CniCode, CniError } from "../errors.js";
import type { NovanetApi, PortInfo, SubnetInfo } from "./api.js";
import { GrpcTransport } from "./grpc.js";
import { CreatePort, DeletePort, GetSubnet, ListPorts, ListSubnets, type UnaryMethod } from "./wire.js";

function readFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new CniError(CniCode.IoFailure, `cannot read ${what}`, `${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

const toSubnet = (s: Subnet): SubnetInfo => ({
  id: s.id, cidr: s.cidr, gatewayIp: s.gatewayIp, dnsServers: s.dnsServers, dnsSearch: s.dnsSearch, mtu: s.mtu,
});
const toPort = (p: Port): PortInfo => ({
  id: p.id, subnetId: p.subnetId, deviceId: p.deviceId, deviceOwner: p.deviceOwner, name: p.name,
  macAddress: p.macAddress, ipAddress: p.ipAddress, ipPrefixLen: p.ipPrefixLen,
});

export function connectNovanet(s: ServerConf): NovanetApi {
  const token = s.token_file ? readFile(s.token_file, "novanet.token_file").toString("utf8").trim() : "";
  const tls = s.tls && {
    ca: s.tls.ca_file ? readFile(s.tls.ca_file, "novanet.tls.ca_file") : undefined,
    cert: s.tls.cert_file ? readFile(s.tls.cert_file, "novanet.tls.cert_file") : undefined,
    key: s.tls.key_file ? readFile(s.tls.key_file, "novanet.tls.key_file") : undefined,
    serverName: s.tls.server_name,
  };
  const transport = new GrpcTransport({ addr: s.server_addr, tls });
  const md: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const call = <Req, Res>(m: UnaryMethod<Req, Res>, req: Req): Promise<Res> => transport.unary(m, req, md, s.timeout_ms);

  return {
    getSubnet: async (t, id) => toSubnet(await call(GetSubnet, { ...t, id })),
    listSubnets: async (t) => (await call(ListSubnets, { ...t })).subnets.map(toSubnet),
    listPortsByDevice: async (t, deviceId) => (await call(ListPorts, { ...t, deviceId, subnetId: "" })).ports.map(toPort),
    listPortsBySubnet: async (t, subnetId) => (await call(ListPorts, { ...t, deviceId: "", subnetId })).ports.map(toPort),
    createPort: async (t, p) => toPort(await call(CreatePort, { ...t, ...p, ipAddress: "" })),
    deletePort: async (t, id) => {
      try {
        await call(DeletePort, { ...t, id });
      } catch (e) {
        if (errorCode(e) !== "NotFound") throw e; // already gone is what was asked for
      }
    },
    sent: () => transport.sent(),
    close: () => transport.close(),
  };
}
