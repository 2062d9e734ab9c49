// The node management network in OVN, as NovaNET programs it: how a node's
// host reaches pods (the agent's probes, operators' curl) without joining any
// tenant's network. ovn-kubernetes' node management port (ovn-k8s-mp0) sits
// on the node's own switch behind the one cluster router; here every tenant
// has a router of its own and tenants share none, so:
//
//   management subnet (NovaNET's own tenant) -> a logical switch holding each
//       node's management port (a NovaNET port, made by the node's novanet
//       ADD; cni-plugin/src/plumbing/management.ts) and the gateway, a port
//       of the management router
//   each tenant router <-> the management router: a point-to-point link (a
//       peered router port pair, a /30 of `links`); the management router
//       routes each tenant subnet over its tenant's link, the tenant router
//       routes only the management subnet back
//
// Isolation holds by routing: a tenant router still knows no other tenant's
// subnet (nor another link), so a pod's packet to tenant B dies at its own
// router, as before; and the management router drops, by a policy, anything
// that neither comes from nor goes to the management subnet, so even a route
// added by mistake cannot make it a transit between tenants. Pods do reach
// the nodes' management addresses (the kubelet's node is reachable from pods
// too). Tenants' subnets must not overlap while this is on: the management
// router, and each host, has one routing table (server.ts refuses such a
// subnet). Link numbers are this stand-in's bookkeeping, kept on the tenant
// router (external_ids:novanet-mgmt-link) so a restart finds them again.
import type { Subnet } from "@plasmacloud/proto/novanet";
import { intToIp, macFor, parseCidr, type Cidr } from "./ipam.js";

/** NovaNET's own tenant: no user token names it, so no user can use or see the management subnet. */
export const MANAGEMENT_TENANT = { orgId: "novanet-system", projectId: "node-management" } as const;
export const MANAGEMENT_SUBNET_ID = "node-management";
/** Where the /30 links come from (RFC 6598 space, as ovn-kubernetes' join and transit switches). */
export const DEFAULT_LINK_CIDR = "100.65.0.0/16";
export const LINK_KEY = "novanet-mgmt-link";

const atom = (s: string): string => JSON.stringify(s);

export class ManagementNet {
  private readonly links: Cidr;
  /** Tenant router name -> link number. */
  private readonly index = new Map<string, number>();

  constructor(readonly subnet: Subnet, readonly prefix: string, linkCidr = DEFAULT_LINK_CIDR) {
    const c = parseCidr(linkCidr);
    if (!c) throw new Error(`management link range ${JSON.stringify(linkCidr)} is not an IPv4 network with a /8../30 prefix`);
    const m = parseCidr(subnet.cidr) as Cidr;
    if (m.network < c.network + c.size && c.network < m.network + m.size) {
      throw new Error(`management subnet ${subnet.cidr} overlaps the management link range ${linkCidr}`);
    }
    this.links = c;
  }

  get linkCidr(): Cidr {
    return this.links;
  }

  routerName(): string {
    return `${this.prefix}/lr-mgmt`;
  }

  /** The link's two router ports: on the tenant's router, and its peer on the management router. */
  linkPorts(tenantRouter: string): { tenant: string; mgmt: string } {
    return { tenant: `${tenantRouter}/to-mgmt`, mgmt: `${tenantRouter}/from-mgmt` };
  }

  /** Link numbers found on routers (a restart of a stand-in whose objects stayed in OVN). */
  adopt(router: string, n: number): void {
    this.index.set(router, n);
  }

  /** The link's addresses: the management router's end and the tenant router's, in /30 number `n`. */
  linkAddresses(tenantRouter: string): { mgmt: string; tenant: string; n: number } {
    let n = this.index.get(tenantRouter);
    if (n === undefined) {
      const used = new Set(this.index.values());
      for (n = 0; used.has(n); n++);
      if (n >= this.links.size / 4) throw new Error(`management links exhausted: ${this.links.size / 4} tenants fit in the link range`);
      this.index.set(tenantRouter, n);
    }
    const base = this.links.network + 4 * n;
    return { mgmt: intToIp(base + 1), tenant: intToIp(base + 2), n };
  }

  /** The management router with its policy; `owner` is the stand-in's external_ids setting. */
  routerCmds(owner: string): string[][] {
    const lr = this.routerName();
    const cidr = this.subnet.cidr;
    return [
      ["--may-exist", "lr-add", lr],
      ["set", "Logical_Router", lr, owner],
      // Only traffic of the management subnet passes: never tenant to tenant.
      ["--may-exist", "lr-policy-add", lr, "1000", `ip4.src != ${cidr} && ip4.dst != ${cidr}`, "drop"],
    ];
  }

  /** Links tenant router `lr` to the management router and routes subnet `s` (of that tenant) over it. */
  linkCmds(lr: string, s: Subnet, owner: string): string[][] {
    const mlr = this.routerName();
    const p = this.linkPorts(lr);
    const a = this.linkAddresses(lr);
    return [
      ...this.routerCmds(owner),
      ["--may-exist", "lrp-add", mlr, p.mgmt, macFor(p.mgmt, a.mgmt), `${a.mgmt}/30`, `peer=${p.tenant}`],
      ["set", "Logical_Router_Port", p.mgmt, owner],
      ["--may-exist", "lrp-add", lr, p.tenant, macFor(p.tenant, a.tenant), `${a.tenant}/30`, `peer=${p.mgmt}`],
      ["set", "Logical_Router_Port", p.tenant, owner],
      ["set", "Logical_Router", lr, `external_ids:${LINK_KEY}=${atom(String(a.n))}`],
      ["--may-exist", "lr-route-add", mlr, s.cidr, a.tenant],
      ["--may-exist", "lr-route-add", lr, this.subnet.cidr, a.mgmt],
    ];
  }
}
