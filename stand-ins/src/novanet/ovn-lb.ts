// Stand-in code: NovaNET's service controller, which on the platform turns the
// control plane's Services into OVN load balancers (as ovn-kubernetes does),
// so that pods in novanet's `ovs` mode, whose traffic enters OVS/OVN directly
// and never crosses the host's nftables, reach Services. The agent's nftables
// Services serve `bridge` mode only (agent/src/services/config.ts: `auto`
// is `none` in ovs mode).
//
// It runs in the NovaNET stand-in's process (main.ts, --ovn-lb-control-plane),
// which knows the tenants' subnets and so their logical switches, and reaches
// the control plane over its gRPC API like any client (ovn-lb-watch.ts).
// Level-triggered: every sync computes what NB should hold from the current
// Services, EndpointSlices and subnets alone (ovn-lb-model.ts), reads what it
// holds (ovn-lb-nb.ts) and writes the difference in one transaction, so a
// restart, a lost watch event or a row someone removed by hand converge on
// the next sync. A sync runs on every change (coalesced), when a subnet
// appears, and every resync period. LBs of Services no longer seen are
// deleted only once every token's list has been read (a partial view never
// deletes); a failing control plane keeps the LBs as they are.
import { CodedError, errorMessage } from "@plasmacloud/common/errors";
import { silentLogger, type Logger } from "@plasmacloud/common/log";
import type { EndpointSlice, Service } from "@plasmacloud/proto/k8shost";
import type { Subnet } from "@plasmacloud/proto/novanet";
import { desiredLbs, isIPv4, lbName, tenantKey, type LbProtocol } from "./ovn-lb-model.js";
import { LbNorthbound, plan } from "./ovn-lb-nb.js";
import { ControlPlaneSource } from "./ovn-lb-watch.js";
import { MANAGEMENT_TENANT } from "./ovn-mgmt.js";
import type { OvnNorthbound } from "./ovn.js";

export const DEFAULT_SERVICE_CIDR = "10.96.0.0/16";
/** Events come in bursts (a pod's status, then its slice): one sync for the lot. */
const COALESCE_MS = 20;
const SUBNET_POLL_MS = 1000;

export interface OvnLbOptions {
  /** ovn-nbctl --db target: the NovaNET stand-in's northbound db. */
  nbDb: string;
  /** The NovaNET stand-in's OVN programming: LBs and the ACL are owned under its prefix, switches named by it. */
  ovn: Pick<OvnNorthbound, "prefix" | "switchName">;
  /** NovaNET's subnets, read at every sync: a tenant's switches (the node management subnet is skipped: as in bridge mode, hosts reach no cluster IP). */
  subnets: () => Subnet[];
  /** The k8shost control plane, host:port. */
  controlPlane: string;
  /** Bearer token files, one tenant (user) token each (ovn-lb-watch.ts says why). */
  tokenFiles: string[];
  /** Rejected after the LB stage when no LB took it; "" = no such ACL. Default 10.96.0.0/16. */
  serviceCidr?: string;
  /** Relist and recheck NB this often. Default 30 s. */
  resyncMs?: number;
  log?: Logger;
}

export interface OvnLoadBalancers {
  /** The LB a Service's ports of one protocol become (for assertions). */
  lbName(m: { orgId: string; projectId: string; namespace: string; name: string }, protocol: LbProtocol): string;
  /** Stops watching; `remove` also deletes every LB and ACL of ours (the stand-in without state stopping). */
  stop(opts?: { remove?: boolean }): Promise<void>;
}

function checkCidr(s: string): void {
  const [ip, len] = s.split("/");
  const bits = Number(len);
  if (!isIPv4(ip ?? "") || !/^\d+$/.test(len ?? "") || bits < 8 || bits > 32) {
    throw new CodedError("InvalidArgument", `service CIDR '${s}' is not an IPv4 CIDR (e.g. ${DEFAULT_SERVICE_CIDR})`);
  }
}

export function startOvnLoadBalancers(o: OvnLbOptions): OvnLoadBalancers {
  if (!o.controlPlane) throw new CodedError("InvalidArgument", "ovn-lb: the control plane's address is required");
  if (o.tokenFiles.length === 0) throw new CodedError("InvalidArgument", "ovn-lb: at least one token file is required (one tenant token each)");
  const serviceCidr = o.serviceCidr ?? DEFAULT_SERVICE_CIDR;
  if (serviceCidr) checkCidr(serviceCidr);
  const log = (o.log ?? silentLogger).child({ component: "ovn-lb" });
  const prefix = o.ovn.prefix;
  const nb = new LbNorthbound(o.nbDb, prefix);
  const resyncMs = o.resyncMs ?? 30_000;

  let timer: NodeJS.Timeout | undefined;
  let syncing: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let failures = 0;
  let lastError = "";
  let problems = "";

  const schedule = (delay = COALESCE_MS): void => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (syncing) again = true;
      else syncing = sync().finally(() => {
        syncing = undefined;
        if (again) { again = false; schedule(); }
      });
    }, delay);
  };
  const sources = o.tokenFiles.map((tokenFile) => new ControlPlaneSource({ address: o.controlPlane, tokenFile, resyncMs, onChange: () => schedule(), log }));

  const tenantSwitches = (): Map<string, string[]> => {
    const m = new Map<string, string[]>();
    for (const s of o.subnets()) {
      if (s.orgId === MANAGEMENT_TENANT.orgId && s.projectId === MANAGEMENT_TENANT.projectId) continue; // no tenant's: hosts get no Services
      const k = tenantKey(s);
      m.set(k, [...(m.get(k) ?? []), o.ovn.switchName(s.id)].sort());
    }
    return m;
  };

  async function sync(): Promise<void> {
    const services = new Map<string, Service>();
    const slices = new Map<string, EndpointSlice>();
    for (const src of sources) {
      for (const [k, v] of src.services.items) services.set(k, v);
      for (const [k, v] of src.slices.items) slices.set(k, v);
    }
    const want = desiredLbs(prefix, services.values(), slices.values());
    const seen = want.problems.join("\n");
    if (seen !== problems && want.problems.length) log.warn({ problems: want.problems }, "objects skipped");
    problems = seen;
    try {
      const cmds = plan({ prefix, desired: want.lbs, tenantSwitches: tenantSwitches(), serviceCidr, complete: sources.every((s) => s.synced), actual: await nb.read() });
      await nb.apply(cmds);
      if (cmds.length) log.debug({ commands: cmds.length, lbs: want.lbs.length }, "northbound updated");
      if (lastError) log.info("northbound in sync again");
      failures = 0;
      lastError = "";
    } catch (err) {
      const msg = errorMessage(err);
      if (msg !== lastError) log.warn({ err: msg }, "programming OVN load balancers failed; retrying");
      lastError = msg;
      failures++;
      schedule(Math.min(500 * 2 ** (failures - 1), 10_000));
    }
  }

  let lastSwitches = "";
  const poll = setInterval(() => {
    const k = JSON.stringify([...tenantSwitches()]);
    if (k !== lastSwitches) { lastSwitches = k; schedule(); }
  }, SUBNET_POLL_MS);
  const recheck = setInterval(() => schedule(), resyncMs);
  for (const s of sources) s.start();
  log.info({ controlPlane: o.controlPlane, tokenFiles: sources.length, serviceCidr, prefix }, "programming Services as OVN load balancers");

  return {
    lbName: (m, protocol) => lbName(prefix, m, protocol),
    async stop(opts = {}) {
      stopped = true;
      clearInterval(poll);
      clearInterval(recheck);
      clearTimeout(timer);
      await Promise.all(sources.map((s) => s.stop()));
      await syncing;
      if (opts.remove) await nb.removeAll();
    },
  };
}
