// State of the NovaNET stand-in: subnets, ports and their pools, scoped by
// tenant. Pure data + rules; the gRPC mapping lives in server.ts.
import { randomUUID } from "node:crypto";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import type { Port, Subnet } from "@plasmacloud/proto/novanet";
import { IpamError, SubnetPool, intToIp, macFor, parseCidr } from "./ipam.js";

export type StoreErrorKind = "not_found" | "already_exists" | "exhausted" | "invalid";

export class StoreError extends Error {
  constructor(readonly kind: StoreErrorKind, message: string) {
    super(message);
  }
}

export interface Tenant { orgId: string; projectId: string }

export interface SubnetInput {
  id?: string;
  orgId: string;
  projectId: string;
  name?: string;
  cidr: string;
  gatewayIp?: string;
  dnsServers?: string[];
  dnsSearch?: string[];
  mtu?: number;
}

export interface PortInput {
  subnetId: string;
  deviceId: string;
  deviceOwner: string;
  name: string;
  ipAddress: string;
}

interface Persisted { subnets: Subnet[]; ports: Port[] }

const owns = (t: Tenant, o: { orgId: string; projectId: string }): boolean =>
  o.orgId === t.orgId && o.projectId === t.projectId;

export class NovanetStore {
  private readonly subnets = new Map<string, Subnet>();
  private readonly pools = new Map<string, SubnetPool>();
  private readonly ports = new Map<string, Port>();

  constructor(private readonly stateFile?: string) {}

  /** Loads a state file written by save(); a missing file is an empty state. */
  load(): void {
    if (!this.stateFile) return;
    let raw: string;
    try {
      raw = readFileSync(this.stateFile, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw e;
    }
    const data = JSON.parse(raw) as Persisted;
    for (const s of data.subnets) this.addSubnet(s, false);
    for (const p of data.ports) {
      this.pools.get(p.subnetId)?.claim(p.ipAddress);
      this.ports.set(p.id, p);
    }
  }

  private save(): void {
    if (!this.stateFile) return;
    const data: Persisted = { subnets: [...this.subnets.values()], ports: [...this.ports.values()] };
    writeFileSync(`${this.stateFile}.tmp`, JSON.stringify(data, null, 2));
    renameSync(`${this.stateFile}.tmp`, this.stateFile);
  }

  addSubnet(input: SubnetInput, persist = true): Subnet {
    if (!input.orgId) throw new StoreError("invalid", "org_id is required");
    if (!input.projectId) throw new StoreError("invalid", "project_id is required");
    const cidr = parseCidr(input.cidr);
    if (!cidr) throw new StoreError("invalid", `cidr: ${JSON.stringify(input.cidr)} is not an IPv4 network with a /8../30 prefix`);
    const id = input.id || `subnet-${randomUUID()}`;
    if (this.subnets.has(id)) throw new StoreError("already_exists", `subnet ${id} already exists`);
    const gatewayIp = input.gatewayIp || intToIp(cidr.network + 1);
    let pool: SubnetPool;
    try {
      pool = new SubnetPool(cidr, gatewayIp);
    } catch (e) {
      throw new StoreError("invalid", `gateway_ip: ${(e as Error).message}`);
    }
    const subnet: Subnet = {
      id, orgId: input.orgId, projectId: input.projectId, name: input.name ?? id, cidr: input.cidr,
      gatewayIp, dnsServers: input.dnsServers ?? [], mtu: input.mtu ?? 0, dnsSearch: input.dnsSearch ?? [],
    };
    this.subnets.set(id, subnet);
    this.pools.set(id, pool);
    if (persist) this.save();
    return subnet;
  }

  /** Undoes addSubnet (a subnet OVN could not get); refused while it has ports. */
  removeSubnet(id: string): void {
    if ([...this.ports.values()].some((p) => p.subnetId === id)) throw new StoreError("invalid", `subnet ${id} has ports`);
    this.subnets.delete(id);
    this.pools.delete(id);
    this.save();
  }

  getSubnet(t: Tenant, id: string): Subnet {
    const s = this.subnets.get(id);
    // Another tenant's subnet does not exist for this caller.
    if (!s || !owns(t, s)) throw new StoreError("not_found", `subnet ${id} not found`);
    return s;
  }

  listSubnets(t: Tenant): Subnet[] {
    return [...this.subnets.values()].filter((s) => owns(t, s));
  }

  createPort(t: Tenant, input: PortInput): Port {
    if (!input.subnetId) throw new StoreError("invalid", "subnet_id is required");
    if (!input.deviceId) throw new StoreError("invalid", "device_id is required");
    const subnet = this.getSubnet(t, input.subnetId);
    const name = input.name || input.deviceId;
    for (const p of this.ports.values()) {
      if (owns(t, p) && p.deviceId === input.deviceId && p.name === name) {
        throw new StoreError("already_exists", `device ${input.deviceId} already has port ${p.id} named ${name}`);
      }
    }
    const pool = this.pools.get(subnet.id) as SubnetPool;
    let ip: string;
    try {
      if (input.ipAddress) {
        pool.claim(input.ipAddress);
        ip = input.ipAddress;
      } else {
        ip = pool.allocate();
      }
    } catch (e) {
      if (e instanceof IpamError) {
        const kind = e.kind === "exhausted" ? "exhausted" : e.kind === "taken" ? "already_exists" : "invalid";
        throw new StoreError(kind, e.message);
      }
      throw e;
    }
    const port: Port = {
      id: `port-${randomUUID()}`, orgId: t.orgId, projectId: t.projectId, subnetId: subnet.id,
      deviceId: input.deviceId, deviceOwner: input.deviceOwner, macAddress: macFor(subnet.id, ip),
      ipAddress: ip, ipPrefixLen: pool.cidr.prefix, name, status: "ACTIVE",
    };
    this.ports.set(port.id, port);
    this.save();
    return port;
  }

  getPort(t: Tenant, id: string): Port {
    const p = this.ports.get(id);
    if (!p || !owns(t, p)) throw new StoreError("not_found", `port ${id} not found`);
    return p;
  }

  listPorts(t: Tenant, filter: { deviceId: string; subnetId: string }): Port[] {
    return [...this.ports.values()].filter((p) => owns(t, p)
      && (!filter.deviceId || p.deviceId === filter.deviceId)
      && (!filter.subnetId || p.subnetId === filter.subnetId));
  }

  deletePort(t: Tenant, id: string): void {
    const p = this.getPort(t, id);
    this.ports.delete(id);
    this.pools.get(p.subnetId)?.release(p.ipAddress);
    this.save();
  }

  /** Every port of every tenant, for test inspection. */
  allPorts(): Port[] {
    return [...this.ports.values()];
  }

  allSubnets(): Subnet[] {
    return [...this.subnets.values()];
  }
}
