// NovaNET stand-in over real gRPC: PortService + SubnetService backed by
// NovanetStore, bearer auth through the shared IAM TokenStore. Tests start it
// in-process with startNovanetStandIn(); the dev cluster runs main.ts.
// With `ovn`, it also programs OVN northbound as NovaNET does (ovn.ts): the
// store decides (IPAM, tenancy), then OVN is made to match; a failure there
// undoes the store's change and answers UNAVAILABLE. With `management` too,
// the node management network (ovn-mgmt.ts): a subnet of NovaNET's own tenant
// where nodes' novanet makes their management ports, linked to every tenant.
import { Server, ServerCredentials, status, type Metadata, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import {
  PortServiceService, SubnetServiceService,
  type PortServiceServer, type SubnetServiceServer, type Port, type Subnet,
} from "@plasmacloud/proto/novanet";
import { AuthError, tenantFor, type Principal, type TokenStore } from "../iam/tokens.js";
import { parseCidr, type Cidr } from "./ipam.js";
import { OvnNorthbound, type OvnOptions } from "./ovn.js";
import { MANAGEMENT_SUBNET_ID, MANAGEMENT_TENANT, ManagementNet } from "./ovn-mgmt.js";
import { NovanetStore, StoreError, type SubnetInput, type Tenant } from "./store.js";

export interface NovanetStandInOptions {
  tokens: TokenStore;
  subnets?: SubnetInput[];
  /** host:port; port 0 picks a free one. Default 127.0.0.1:0. */
  address?: string;
  /** JSON file holding subnets and ports across restarts. */
  stateFile?: string;
  /** Serve TLS with this PEM key pair instead of plaintext. */
  tls?: { certPem: Buffer; keyPem: Buffer };
  /**
   * Program OVN northbound too. Its objects are removed on stop() when
   * `removeOnStop` (default: when there is no stateFile, whose ports would
   * otherwise outlive the only record of them).
   */
  ovn?: OvnOptions & { removeOnStop?: boolean };
  /**
   * The node management network (needs `ovn`): its subnet, in NovaNET's own
   * tenant MANAGEMENT_TENANT (id MANAGEMENT_SUBNET_ID unless given), and the
   * range of the tenant routers' links to it. While it is on, no subnet may
   * overlap another (hosts route every subnet through it).
   */
  management?: { cidr: string; id?: string; gatewayIp?: string; mtu?: number; linkCidr?: string };
}

export interface NovanetStandIn {
  address: string;
  stop(): Promise<void>;
  /** Every port of every tenant. */
  ports(): Port[];
  subnets(): Subnet[];
  addSubnet(s: SubnetInput): Promise<Subnet>;
  /** The OVN programming, when `ovn` was given (object names for assertions). */
  ovn?: OvnNorthbound;
  /** The management subnet, when `management` was given. */
  management?: Subnet;
  /** Calls seen per method name (e.g. "CreatePort"), for assertions. */
  calls: Map<string, number>;
  /** Simulates a slow or failing backend: runs before every handler. */
  setHook(hook: ((method: string) => Promise<void> | void) | undefined): void;
}

class RpcError extends Error {
  constructor(readonly code: status, message: string) {
    super(message);
  }
}

const storeCodes: Record<StoreError["kind"], status> = {
  not_found: status.NOT_FOUND,
  already_exists: status.ALREADY_EXISTS,
  exhausted: status.RESOURCE_EXHAUSTED,
  invalid: status.INVALID_ARGUMENT,
};

function requireTenant(orgId: string, projectId: string): void {
  if (!orgId) throw new RpcError(status.INVALID_ARGUMENT, "org_id is required");
  if (!projectId) throw new RpcError(status.INVALID_ARGUMENT, "project_id is required");
}

/** Two networks share an address. */
const overlap = (a: Cidr, b: Cidr): boolean => a.network < b.network + b.size && b.network < a.network + a.size;

export async function startNovanetStandIn(opts: NovanetStandInOptions): Promise<NovanetStandIn> {
  const store = new NovanetStore(opts.stateFile);
  store.load();
  if (opts.management && !opts.ovn) throw new Error("novanet stand-in: management needs ovn");
  const mgmtId = opts.management ? opts.management.id || MANAGEMENT_SUBNET_ID : undefined;
  const mgmtSubnet = (): Subnet | undefined => store.allSubnets().find((x) => x.id === mgmtId);
  if (opts.management && !mgmtSubnet()) {
    const { cidr, gatewayIp, mtu } = opts.management;
    store.addSubnet({ id: mgmtId, ...MANAGEMENT_TENANT, name: "node management", cidr, gatewayIp, mtu });
  }
  const mgmt = opts.ovn && opts.management
    ? new ManagementNet(mgmtSubnet() as Subnet, opts.ovn.prefix ?? "novanet", opts.management.linkCidr) : undefined;
  /** With the management network on, one routing table holds every subnet: refuse an overlap, naming it. */
  const checkOverlap = (input: SubnetInput): void => {
    const c = mgmt && parseCidr(input.cidr);
    if (!mgmt || !c) return; // no management network; or a bad cidr, which the store reports
    const hit = store.allSubnets().find((x) => x.id !== input.id && overlap(c, parseCidr(x.cidr) as Cidr));
    if (hit) {
      throw new StoreError("invalid", `cidr ${input.cidr} overlaps subnet ${hit.id} (${hit.cidr}): with the node management network on, subnets of all tenants must not overlap`);
    }
    if (overlap(c, mgmt.linkCidr)) throw new StoreError("invalid", `cidr ${input.cidr} overlaps the management link range`);
  };
  for (const s of opts.subnets ?? []) {
    if (!store.allSubnets().some((x) => x.id === s.id)) {
      checkOverlap(s);
      store.addSubnet(s);
    }
  }
  const ovn = opts.ovn ? new OvnNorthbound(opts.ovn, mgmt) : undefined;
  const ovnFailed = (e: unknown): RpcError => new RpcError(status.UNAVAILABLE, `programming OVN: ${(e as Error).message}`);
  // Level-triggered: whatever the northbound db holds of ours, it now matches the store.
  await ovn?.reconcile(store.allSubnets(), store.allPorts());
  const addSubnet = async (input: SubnetInput): Promise<Subnet> => {
    checkOverlap(input);
    const subnet = store.addSubnet(input);
    try {
      await ovn?.ensureSubnet(subnet);
    } catch (e) {
      store.removeSubnet(subnet.id);
      throw ovnFailed(e);
    }
    return subnet;
  };
  const calls = new Map<string, number>();
  let hook: ((method: string) => Promise<void> | void) | undefined;

  // One wrapper gives every method auth, tenant scoping and error mapping.
  function unary<Req extends { orgId: string; projectId: string }, Res>(
    method: string,
    fn: (t: Tenant, req: Req, principal: Principal) => Res | Promise<Res>,
  ): (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>) => void {
    return (call, cb) => {
      calls.set(method, (calls.get(method) ?? 0) + 1);
      void (async () => {
        try {
          if (hook) await hook(method);
          const principal = opts.tokens.authenticate(call.metadata as Metadata);
          requireTenant(call.request.orgId, call.request.projectId);
          const t = tenantFor(principal, call.request.orgId, call.request.projectId);
          cb(null, await fn(t, call.request, principal));
        } catch (e) {
          if (e instanceof AuthError || e instanceof RpcError) cb({ code: e.code, details: e.message });
          else if (e instanceof StoreError) cb({ code: storeCodes[e.kind], details: e.message });
          else cb({ code: status.INTERNAL, details: (e as Error).message });
        }
      })();
    };
  }

  const ports: PortServiceServer = {
    createPort: unary("CreatePort", async (t, r, principal) => {
      // Only a node's novanet makes management ports (users cannot name NovaNET's tenant anyway).
      if (r.subnetId === mgmtId && principal.kind !== "node") throw new RpcError(status.PERMISSION_DENIED, "only nodes make ports in the management subnet");
      const port = store.createPort(t, {
        subnetId: r.subnetId, deviceId: r.deviceId, deviceOwner: r.deviceOwner, name: r.name, ipAddress: r.ipAddress,
      });
      try {
        await ovn?.ensurePort(port);
      } catch (e) {
        store.deletePort(t, port.id);
        throw ovnFailed(e);
      }
      return port;
    }),
    getPort: unary("GetPort", (t, r) => {
      if (!r.id) throw new RpcError(status.INVALID_ARGUMENT, "id is required");
      return store.getPort(t, r.id);
    }),
    listPorts: unary("ListPorts", (t, r) => {
      if (!r.deviceId && !r.subnetId) throw new RpcError(status.INVALID_ARGUMENT, "device_id or subnet_id is required");
      return { ports: store.listPorts(t, { deviceId: r.deviceId, subnetId: r.subnetId }) };
    }),
    deletePort: unary("DeletePort", async (t, r) => {
      if (!r.id) throw new RpcError(status.INVALID_ARGUMENT, "id is required");
      const port = store.getPort(t, r.id);
      // OVN first: a port NovaNET no longer has must not forward (ovn.ts waits for the chassis).
      await ovn?.deletePort(port.id).catch((e: unknown) => { throw ovnFailed(e); });
      store.deletePort(t, r.id);
      return {};
    }),
  };
  const subnets: SubnetServiceServer = {
    createSubnet: unary("CreateSubnet", (t, r) => addSubnet({
      id: r.id, orgId: t.orgId, projectId: t.projectId, name: r.name, cidr: r.cidr, gatewayIp: r.gatewayIp,
      dnsServers: r.dnsServers, dnsSearch: r.dnsSearch, mtu: r.mtu,
    })),
    getSubnet: unary("GetSubnet", (t, r) => {
      if (!r.id) throw new RpcError(status.INVALID_ARGUMENT, "id is required");
      return store.getSubnet(t, r.id);
    }),
    listSubnets: unary("ListSubnets", (t) => ({ subnets: store.listSubnets(t) })),
  };

  const server = new Server();
  server.addService(PortServiceService, ports);
  server.addService(SubnetServiceService, subnets);
  const creds = opts.tls
    ? ServerCredentials.createSsl(null, [{ cert_chain: opts.tls.certPem, private_key: opts.tls.keyPem }], false)
    : ServerCredentials.createInsecure();
  const want = opts.address ?? "127.0.0.1:0";
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(want, creds, (err, p) => (err ? reject(err) : resolve(p)));
  });
  const host = want.slice(0, want.lastIndexOf(":"));

  return {
    address: `${host}:${port}`,
    stop: async () => {
      await new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        // Clients that keep a channel open must not hold a test hostage.
        setTimeout(() => { server.forceShutdown(); resolve(); }, 1000).unref();
      });
      if (ovn && (opts.ovn?.removeOnStop ?? !opts.stateFile)) await ovn.removeAll();
    },
    ports: () => store.allPorts(),
    subnets: () => store.allSubnets(),
    addSubnet,
    ovn,
    management: mgmtSubnet(),
    calls,
    setHook: (h) => { hook = h; },
  };
}
