// The northbound side of the Service load balancers: what the db holds of
// ours (one ovn-nbctl call, three `find`s), and the one transaction that
// makes it what ovn-lb-model.ts wants (plan(): pure, so its decisions are
// unit-tested). Nothing is written when nothing differs.
//
// Attachment: an LB is on every logical switch of its tenant's subnets and
// on no other (Logical_Switch.load_balancer; OVN does the DNAT in the
// client's switch, so another tenant's pods, whose switches lack the LB,
// have no such VIP). Load_Balancer is a root table and switches reference it
// weakly, so deleting an LB detaches it everywhere.
// The service range: one ACL of ours on every subnet switch rejects what is
// still addressed into it after the LB stage (options:apply-after-lb): a VIP
// no LB of the tenant took (a deleted Service, another tenant's) is refused
// at once, as the agent's nftables Services refuse it, not left to time out.
import { run } from "@plasmacloud/common/exec";
import { ACL_KIND, KIND_KEY, LB_KIND, tenantKey, type DesiredLb } from "./ovn-lb-model.js";

/** Above any policy ACL: an address of the service range that no LB took does not exist. */
export const SERVICE_RANGE_ACL_PRIORITY = 32000;

export interface NbLb {
  uuid: string;
  name: string;
  protocol: string;
  vips: Record<string, string>;
  options: Record<string, string>;
  externalIds: Record<string, string>;
}

export interface NbSwitch {
  name: string;
  /** Load_Balancer uuids. */
  lbs: string[];
  /** ACL uuids. */
  acls: string[];
}

export interface NbAcl {
  uuid: string;
  direction: string;
  priority: number;
  match: string;
  action: string;
  options: Record<string, string>;
}

export interface NbState {
  lbs: NbLb[];
  switches: NbSwitch[];
  acls: NbAcl[];
}

export interface PlanInput {
  prefix: string;
  desired: DesiredLb[];
  /** Switch names of each tenant's subnets (tenantKey -> names), whether or not they exist in NB yet. */
  tenantSwitches: Map<string, string[]>;
  /** The service range to reject after the LB stage; "" = no ACL. */
  serviceCidr: string;
  /** Every source has listed: LBs of Services not seen may be deleted (never on a partial view). */
  complete: boolean;
  actual: NbState;
}

type Json = unknown;
const atom = (s: string): string => JSON.stringify(s);
const ovsMap = (m: Record<string, string>): string => `{${Object.keys(m).sort().map((k) => `${atom(k)}=${atom(m[k]!)}`).join(", ")}}`;
const sameMap = (a: Record<string, string>, b: Record<string, string>): boolean =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

/** `find` conditions for rows of ours of one kind (ovn.ts's rows, same owner, have no kind). */
const mine = (prefix: string, kind: string): string[] => [`external_ids:novanet-owner=${atom(prefix)}`, `external_ids:${KIND_KEY}=${atom(kind)}`];

export function serviceRangeAcl(cidr: string): Omit<NbAcl, "uuid"> {
  return { direction: "from-lport", priority: SERVICE_RANGE_ACL_PRIORITY, match: `ip4.dst == ${cidr}`, action: "reject", options: { "apply-after-lb": "true" } };
}

/** The commands of one transaction (each an ovn-nbctl argument list), [] when NB already matches. */
export function plan(p: PlanInput): string[][] {
  const cmds: string[][] = [];
  const { actual } = p;
  const present = new Set(actual.switches.map((s) => s.name));
  const want = new Map(p.desired.map((d) => [d.name, d]));
  const byName = new Map<string, NbLb[]>();
  for (const lb of actual.lbs) byName.set(lb.name, [...(byName.get(lb.name) ?? []), lb]);
  // Stale LBs (complete view only) and duplicates of a name (always: one row per name).
  for (const [name, rows] of byName) {
    const keep = want.has(name) ? 1 : p.complete ? 0 : rows.length;
    for (const lb of rows.slice(keep)) cmds.push(["lb-del", lb.uuid]);
  }
  /** Which of our switches hold each LB uuid now. */
  const holders = new Map<string, Set<string>>();
  for (const s of actual.switches) for (const u of s.lbs) holders.set(u, (holders.get(u) ?? new Set()).add(s.name));
  for (const d of p.desired) {
    const cur = byName.get(d.name)?.[0];
    const ref = cur?.uuid ?? d.name; // a row made in this transaction is found by name (ls-lb-add cannot take @id)
    if (!cur) {
      cmds.push(["create", "Load_Balancer", `name=${atom(d.name)}`, `protocol=${d.protocol}`, `vips=${ovsMap(d.vips)}`, `options=${ovsMap(d.options)}`, `external_ids=${ovsMap(d.externalIds)}`]);
    } else if (cur.protocol !== d.protocol || !sameMap(cur.vips, d.vips) || !sameMap(cur.options, d.options) || !sameMap(cur.externalIds, d.externalIds)) {
      cmds.push(["set", "Load_Balancer", cur.uuid, `protocol=${d.protocol}`, `vips=${ovsMap(d.vips)}`, `options=${ovsMap(d.options)}`, `external_ids=${ovsMap(d.externalIds)}`]);
    }
    const onto = new Set((p.tenantSwitches.get(tenantKey(d.tenant)) ?? []).filter((s) => present.has(s)));
    const has = cur ? holders.get(cur.uuid) ?? new Set<string>() : new Set<string>();
    for (const s of [...onto].sort()) if (!has.has(s)) cmds.push(["--may-exist", "ls-lb-add", s, ref]);
    for (const s of [...has].sort()) if (!onto.has(s)) cmds.push(["--if-exists", "ls-lb-del", s, cur!.uuid]);
  }
  cmds.push(...planAcl(p, present));
  return cmds;
}

/** One ACL row of ours, referenced by every subnet switch; stale ones detached (unreferenced rows go with it). */
function planAcl(p: PlanInput, present: Set<string>): string[][] {
  const cmds: string[][] = [];
  const targets = new Set(p.serviceCidr ? [...p.tenantSwitches.values()].flat().filter((s) => present.has(s)) : []);
  const spec = p.serviceCidr ? serviceRangeAcl(p.serviceCidr) : undefined;
  const good = spec && p.actual.acls.find((a) => a.direction === spec.direction && a.priority === spec.priority && a.match === spec.match && a.action === spec.action && sameMap(a.options, spec.options));
  const ours = new Set(p.actual.acls.map((a) => a.uuid));
  let created = false;
  for (const s of p.actual.switches) {
    for (const u of s.acls) if (ours.has(u) && (u !== good?.uuid || !targets.has(s.name))) cmds.push(["remove", "Logical_Switch", s.name, "acls", u]);
    if (!spec || !targets.has(s.name) || (good && s.acls.includes(good.uuid))) continue;
    if (!good && !created) {
      created = true;
      cmds.push(["--id=@acl", "create", "ACL", `direction=${spec.direction}`, `priority=${spec.priority}`, `match=${atom(spec.match)}`,
        `action=${spec.action}`, `options=${ovsMap(spec.options)}`, `external_ids=${ovsMap({ "novanet-owner": p.prefix, [KIND_KEY]: ACL_KIND })}`]);
    }
    cmds.push(["add", "Logical_Switch", s.name, "acls", good ? good.uuid : "@acl"]);
  }
  return cmds;
}

// OVSDB JSON as ovn-nbctl --format=json prints cells: ["uuid", U], ["set", [...]], ["map", [[k, v]...]], or an atom.
const uuidOf = (v: Json): string => (Array.isArray(v) && v[0] === "uuid" ? String(v[1]) : "");
const setOf = (v: Json): Json[] => (Array.isArray(v) && v[0] === "set" ? (v[1] as Json[]) : [v]);
const strOf = (v: Json): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");
function mapOf(v: Json): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(v) && v[0] === "map") for (const [k, x] of v[1] as [Json, Json][]) out[strOf(k)] = strOf(x);
  return out;
}

function rows(line: string | undefined): Record<string, Json>[] {
  const t = JSON.parse(line ?? "{}") as { headings?: string[]; data?: Json[][] };
  return (t.data ?? []).map((r) => Object.fromEntries((t.headings ?? []).map((h, i) => [h, r[i]])));
}

export function parseState(stdout: string): NbState {
  const [lbs, switches, acls] = stdout.split("\n").filter((l) => l.trim());
  return {
    lbs: rows(lbs).map((r) => ({ uuid: uuidOf(r._uuid), name: strOf(r.name), protocol: strOf(setOf(r.protocol)[0]), vips: mapOf(r.vips), options: mapOf(r.options), externalIds: mapOf(r.external_ids) })),
    switches: rows(switches).map((r) => ({ name: strOf(r.name), lbs: setOf(r.load_balancer).map(uuidOf).filter(Boolean), acls: setOf(r.acls).map(uuidOf).filter(Boolean) })),
    acls: rows(acls).map((r) => ({ uuid: uuidOf(r._uuid), direction: strOf(r.direction), priority: Number(r.priority), match: strOf(r.match), action: strOf(r.action), options: mapOf(r.options) })),
  };
}

/** ovn-nbctl on one db, one call at a time (as ovn.ts: --may-exist is checked in the client). */
export class LbNorthbound {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly nbDb: string, readonly prefix: string) {}

  private nbctl(cmds: string[][], global: string[] = []): Promise<string> {
    const args = [`--db=${this.nbDb}`, "--timeout=10", ...global, ...cmds.flatMap((c, i) => (i ? ["--", ...c] : c))];
    const next = this.queue.then(() => run("ovn-nbctl", args, { timeoutMs: 15_000 }));
    this.queue = next.catch(() => undefined);
    return next.then((r) => r.stdout);
  }

  async read(): Promise<NbState> {
    return parseState(await this.nbctl([
      ["--columns=_uuid,name,protocol,vips,options,external_ids", "find", "Load_Balancer", ...mine(this.prefix, LB_KIND)],
      ["--columns=name,load_balancer,acls", "find", "Logical_Switch", `external_ids:novanet-owner=${atom(this.prefix)}`],
      ["--columns=_uuid,direction,priority,match,action,options", "find", "ACL", ...mine(this.prefix, ACL_KIND)],
    ], ["--format=json"]));
  }

  async apply(cmds: string[][]): Promise<void> {
    if (cmds.length) await this.nbctl(cmds);
  }

  /** Every LB and ACL of ours (the switches are ovn.ts's). */
  async removeAll(): Promise<void> {
    const st = await this.read();
    const cmds = st.lbs.map((lb) => ["lb-del", lb.uuid]);
    const ours = new Set(st.acls.map((a) => a.uuid));
    for (const s of st.switches) for (const u of s.acls) if (ours.has(u)) cmds.push(["remove", "Logical_Switch", s.name, "acls", u]);
    await this.apply(cmds);
  }
}
