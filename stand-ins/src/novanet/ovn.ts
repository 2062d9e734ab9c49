// NovaNET's OVN northbound programming, as the real service does it:
//   a tenant network (org + project)  -> a logical router
//   a subnet                          -> a logical switch, joined to its tenant's
//                                        router by a router port holding the
//                                        subnet's gateway IP (and a MAC of its own)
//   a port                            -> a logical switch port named by the port
//                                        id (the iface-id novanet puts on the OVS
//                                        interface) with `addresses` and
//                                        `port_security` = "<MAC> <IP>"
// Tenants share nothing: no router joins two tenants, so another tenant's
// addresses have no route, and port security drops any frame whose source
// MAC or IP (ARP included) is not the port's own. With a management network
// (ovn-mgmt.ts) each tenant router is also linked to the management router,
// which lets nodes' hosts reach pods and routes nothing between tenants.
//
// Through ovn-nbctl with argument arrays (@plasmacloud/common/exec), one
// process and one transaction per call: its --may-exist/--if-exists make
// every call idempotent and --wait=hv waits for the chassis. A JSON-RPC
// OVSDB client would save the ~5 ms exec per call, but would have to look up
// row uuids and keep references intact itself, for nothing a stand-in needs.
// Calls are serialized: ovn-nbctl's --may-exist is checked in the client,
// so two concurrent "lr-add R" would make two routers named R.
//
// Every object carries external_ids:novanet-owner=<prefix> and a name under
// that prefix, so stand-ins sharing one northbound db (tests, the dev
// cluster) never touch each other's objects.
import { run } from "@plasmacloud/common/exec";
import type { Port, Subnet } from "@plasmacloud/proto/novanet";
import { macFor } from "./ipam.js";
import { LINK_KEY, type ManagementNet } from "./ovn-mgmt.js";

export interface OvnOptions {
  /** ovn-nbctl --db target, e.g. unix:/run/plasmacloud-stack/ovn/ovnnb_db.sock. */
  nbDb: string;
  /** Prefix of the names of everything this stand-in programs. Default "novanet". */
  prefix?: string;
}

const enc = encodeURIComponent; // ids may hold anything; names must not collide
const atom = (s: string): string => JSON.stringify(s); // an OVSDB string atom, quoted

export class OvnNorthbound {
  readonly prefix: string;
  private queue: Promise<unknown> = Promise.resolve();

  /** `management`: the node management network (ovn-mgmt.ts), made by server.ts from its subnet. */
  constructor(private readonly opts: OvnOptions, readonly management?: ManagementNet) {
    this.prefix = opts.prefix ?? "novanet";
  }

  routerName(orgId: string, projectId: string): string {
    return `${this.prefix}/lr/${enc(orgId)}/${enc(projectId)}`;
  }

  switchName(subnetId: string): string {
    return `${this.prefix}/ls/${enc(subnetId)}`;
  }

  routerPortName(subnetId: string): string {
    return `${this.prefix}/lrp/${enc(subnetId)}`;
  }

  /** The gateway's MAC: stable for (subnet, gateway IP), as ports' MACs are; the gateway is never a port's address. */
  gatewayMac(s: Subnet): string {
    return macFor(s.id, s.gatewayIp);
  }

  private owner(): string {
    return `external_ids:novanet-owner=${atom(this.prefix)}`;
  }

  /** One ovn-nbctl transaction; `cmds` are its commands, each an argument list, joined by "--". */
  private nbctl(cmds: string[][], global: string[] = []): Promise<string> {
    const args = [`--db=${this.opts.nbDb}`, "--timeout=10", ...global, ...cmds.flatMap((c, i) => (i ? ["--", ...c] : c))];
    const next = this.queue.then(() => run("ovn-nbctl", args, { timeoutMs: 15_000 }));
    this.queue = next.catch(() => undefined);
    return next.then((r) => r.stdout);
  }

  /**
   * The subnet's switch, its tenant's router, and the router port with the
   * gateway; idempotent. The management subnet's router is the management
   * router; a tenant's router is linked to it when there is one.
   */
  async ensureSubnet(s: Subnet): Promise<void> {
    const m = this.management;
    const isMgmt = m?.subnet.id === s.id;
    const lr = isMgmt ? m.routerName() : this.routerName(s.orgId, s.projectId);
    const ls = this.switchName(s.id);
    const lrp = this.routerPortName(s.id);
    const lsp = `${ls}/lr`;
    const plen = s.cidr.split("/")[1];
    await this.nbctl([
      ...(isMgmt ? m.routerCmds(this.owner()) : [
        ["--may-exist", "lr-add", lr],
        ["set", "Logical_Router", lr, this.owner(), `external_ids:novanet-tenant=${atom(`${s.orgId}/${s.projectId}`)}`],
        ...(m ? m.linkCmds(lr, s, this.owner()) : []),
      ]),
      ["--may-exist", "ls-add", ls],
      ["set", "Logical_Switch", ls, this.owner(), `external_ids:novanet-subnet=${atom(s.id)}`],
      ["--may-exist", "lrp-add", lr, lrp, this.gatewayMac(s), `${s.gatewayIp}/${plen}`],
      ["set", "Logical_Router_Port", lrp, this.owner()],
      ["--may-exist", "lsp-add", ls, lsp],
      ["lsp-set-type", lsp, "router"],
      ["lsp-set-addresses", lsp, "router"],
      ["lsp-set-options", lsp, `router-port=${lrp}`],
      ["set", "Logical_Switch_Port", lsp, this.owner()],
    ]);
  }

  /** The port's logical switch port, owning exactly its MAC and IP; idempotent. */
  async ensurePort(p: Port): Promise<void> {
    const mine = `${p.macAddress} ${p.ipAddress}`;
    await this.nbctl([
      ["--may-exist", "lsp-add", this.switchName(p.subnetId), p.id],
      ["lsp-set-addresses", p.id, mine],
      ["lsp-set-port-security", p.id, mine],
      ["set", "Logical_Switch_Port", p.id, this.owner(), `external_ids:novanet-port=${atom(p.id)}`],
    ]);
  }

  /**
   * Removes the port's logical switch port and returns once this node's
   * ovn-controller has removed its flows (--wait=hv): from then on the port
   * forwards nothing, though its veth may still be there.
   */
  async deletePort(id: string): Promise<void> {
    await this.nbctl([["--if-exists", "lsp-del", id]], ["--wait=hv"]);
  }

  private async owned(table: string, extra: string[] = []): Promise<string[]> {
    const out = await this.nbctl([["--format=csv", "--data=bare", "--no-headings", "--columns=name", "find", table, this.owner(), ...extra]]);
    return out.split("\n").map((l) => l.trim().replace(/^"|"$/g, "").replace(/""/g, "\"")).filter(Boolean);
  }

  /** Makes the northbound db hold exactly these subnets' and ports' objects of ours (a restart with a state file). */
  async reconcile(subnets: Subnet[], ports: Port[]): Promise<void> {
    if (this.management) await this.adoptLinks(this.management);
    for (const s of subnets) await this.ensureSubnet(s);
    for (const p of ports) await this.ensurePort(p);
    const want = new Set(ports.map((p) => p.id));
    // Logical switch ports of ours that are NovaNET ports (the routers' have a type).
    const stale = (await this.owned("Logical_Switch_Port", ["type=\"\""])).filter((n) => !want.has(n));
    if (stale.length) await this.nbctl(stale.map((n) => ["--if-exists", "lsp-del", n]), ["--wait=hv"]);
  }

  /** Management link numbers already on our routers: a link keeps its addresses across a restart. */
  private async adoptLinks(m: ManagementNet): Promise<void> {
    const out = await this.nbctl([["--format=json", "--columns=name,external_ids", "find", "Logical_Router", this.owner()]]);
    // OVSDB JSON: a row is [name, ["map", [[key, value], ...]]].
    for (const [name, ids] of (JSON.parse(out) as { data: [string, [string, [string, string][]]][] }).data) {
      const n = ids[1].find(([k]) => k === LINK_KEY)?.[1];
      if (n !== undefined && /^\d+$/.test(n)) m.adopt(name, Number(n));
    }
  }

  /** Removes every switch and router of ours, their ports with them (a stand-in without state stopping). */
  async removeAll(): Promise<void> {
    const cmds = [
      ...(await this.owned("Logical_Switch")).map((n) => ["--if-exists", "ls-del", n]),
      ...(await this.owned("Logical_Router")).map((n) => ["--if-exists", "lr-del", n]),
    ];
    if (cmds.length) await this.nbctl(cmds, ["--wait=hv"]);
  }
}
