// What the verbs need from NovaNET, free of gRPC types so that importing it
// costs nothing; client.ts (loaded lazily) implements it over gRPC. A failed
// call rejects with GrpcCallError (@plasmacloud/common/grpc): its `code` is
// the repo's ErrorCode, mapped once from the gRPC status by codeFromGrpc.

export interface Tenant { orgId: string; projectId: string }

export interface SubnetInfo {
  id: string;
  cidr: string;
  gatewayIp: string;
  dnsServers: string[];
  dnsSearch: string[];
  /** 0 = platform default. */
  mtu: number;
}

export interface PortInfo {
  id: string;
  subnetId: string;
  deviceId: string;
  deviceOwner: string;
  name: string;
  macAddress: string;
  ipAddress: string;
  ipPrefixLen: number;
}

export interface NovanetApi {
  getSubnet(t: Tenant, id: string): Promise<SubnetInfo>;
  listSubnets(t: Tenant): Promise<SubnetInfo[]>;
  listPortsByDevice(t: Tenant, deviceId: string): Promise<PortInfo[]>;
  listPortsBySubnet(t: Tenant, subnetId: string): Promise<PortInfo[]>;
  createPort(t: Tenant, p: { subnetId: string; deviceId: string; deviceOwner: string; name: string }): Promise<PortInfo>;
  /** Resolves when the port is gone, including when it already was. */
  deletePort(t: Tenant, id: string): Promise<void>;
  /** Resolves once the calls made so far are on the wire (or the connection failed): other work can start without delaying them. */
  sent(): Promise<void>;
  close(): void;
}
