// kube-proxy's job on this node, nftables mode: Services and EndpointSlices
// from the control plane (list + watch + resync), the tenants' pod IPs from
// the pods bound here, and one table the agent owns, rewritten whole in one
// transaction whenever what it should hold changed. Level-triggered: each
// sync builds the table from the current objects alone, so an agent that
// restarts (or a table someone flushed) converges on the next sync. The table
// is touched only once Services, slices and pods have all been listed, so a
// restarting agent never empties a working table on a partial view; it is
// deleted once no Service needs a rule.
import { readFileSync } from "node:fs";
import { ListEndpointSlicesRequest, ListServicesRequest, WatchEndpointSlicesRequest, WatchServicesRequest, type EndpointSlice, type EndpointSliceWatchEvent, type Service, type ServiceWatchEvent } from "@plasmacloud/proto/k8shost";
import { errorMessage } from "@plasmacloud/common/errors";
import type { Logger } from "@plasmacloud/common/log";
import type { ControlPlane } from "../controlplane/client";
import { Backoff, sleep } from "../retry/backoff";
import { ProblemLog } from "../retry/problem";
import type { ServicesConfig } from "./config";
import { Informer } from "./informer";
import { buildModel } from "./model";
import { NftTable } from "./nft";
import { PodIPs } from "./pod-ips";
import { render, transaction, type Existing, type Rendered } from "./render";

/** Events come in bursts (a pod's status, then its slice): one sync for the lot. */
const COALESCE_MS = 20;

export interface ServiceProxyOptions {
  cp: ControlPlane;
  nodeName: string;
  cfg: ServicesConfig;
  log: Logger;
  /** Services and slices are listed again this often (the safety net under the watches). */
  resyncMs: number;
  nft?: NftTable;
  /** Off in novanet ovs mode: no pod sits on a Linux bridge, so br_netfilter is not checked. Default on. */
  bridged?: boolean;
}

/** The table still holds what was written: the same chains, sets and maps, and as many rules and elements in each (a flushed chain or map shows). */
const sameObjects = (e: Existing, r: Rendered): boolean =>
  e.chains.size === r.chains.size && [...r.chains].every((c) => e.chains.has(c)) && e.sets.size === r.sets.size + r.affinitySets.size && [...r.sets, ...r.affinitySets].every((s) => e.sets.has(s)) &&
  (!e.counts || (sameCounts(e.counts.rules, r.counts.rules, r.chains) && sameCounts(e.counts.elements, r.counts.elements, r.sets)));

const sameCounts = (have: Map<string, number>, want: Map<string, number>, names: Set<string>): boolean => [...names].every((n) => (have.get(n) ?? 0) === (want.get(n) ?? 0));

export class ServiceProxy {
  readonly pods: PodIPs;
  private readonly services: Informer<Service, ServiceWatchEvent>;
  private readonly slices: Informer<EndpointSlice, EndpointSliceWatchEvent>;
  private readonly nft: NftTable;
  private readonly problem: ProblemLog;
  private readonly backoff = new Backoff(500, 10_000);
  private readonly stopped = new AbortController();
  /** The script last applied; "" = the table was removed; undefined = unknown (at start). */
  private last: string | undefined;
  private problems = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private force = false;
  private syncing: Promise<void> | undefined;
  private again = false;

  constructor(private readonly o: ServiceProxyOptions) {
    const { cp, nodeName, log } = o;
    this.nft = o.nft ?? new NftTable(o.cfg.table);
    this.problem = new ProblemLog(log, `services table ${o.cfg.table}`);
    const changed = (): void => this.schedule();
    this.pods = new PodIPs(changed, () => {
      this.services.relist();
      this.slices.relist();
    });
    this.services = new Informer<Service, ServiceWatchEvent>({
      what: "services",
      list: () => cp.call("ListServices", cp.services.listServices.bind(cp.services), ListServicesRequest.fromPartial({ nodeName })),
      watch: (resourceVersion, md) => cp.services.watchServices(WatchServicesRequest.fromPartial({ nodeName, resourceVersion }), md),
      unwrap: (ev) => ({ type: ev.type, obj: ev.service }),
      metadata: () => cp.metadata(),
    }, changed, log, o.resyncMs);
    this.slices = new Informer<EndpointSlice, EndpointSliceWatchEvent>({
      what: "endpoint slices",
      list: () => cp.call("ListEndpointSlices", cp.endpointSlices.listEndpointSlices.bind(cp.endpointSlices), ListEndpointSlicesRequest.fromPartial({ nodeName })),
      watch: (resourceVersion, md) => cp.endpointSlices.watchEndpointSlices(WatchEndpointSlicesRequest.fromPartial({ nodeName, resourceVersion }), md),
      unwrap: (ev) => ({ type: ev.type, obj: ev.endpointSlice }),
      metadata: () => cp.metadata(),
    }, changed, log, o.resyncMs);
  }

  /** Runs until stop(); then removes the table if cleanupOnStop says so. */
  async run(): Promise<void> {
    if (this.o.bridged !== false) this.checkBridgeNetfilter();
    const check = setInterval(() => this.schedule(true), this.o.cfg.syncSeconds * 1000);
    try {
      await Promise.all([this.services.run(), this.slices.run()]);
    } finally {
      clearInterval(check);
      clearTimeout(this.timer);
      await this.syncing;
      if (this.o.cfg.cleanupOnStop) {
        try {
          if (await this.nft.remove()) this.o.log.info({ table: this.o.cfg.table }, "services table removed on stop (services.cleanupOnStop)");
        } catch (err) {
          this.o.log.warn({ table: this.o.cfg.table, err: errorMessage(err) }, "services table could not be removed on stop");
        }
      }
    }
  }

  stop(): void {
    this.stopped.abort();
    this.services.stop();
    this.slices.stop();
  }

  /** Coalesces a burst of changes into one sync; `force` also checks the table against what was written. */
  schedule(force = false): void {
    this.force ||= force;
    if (this.timer || this.stopped.signal.aborted) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.syncing) {
        this.again = true;
        return;
      }
      this.syncing = this.loop().finally(() => (this.syncing = undefined));
    }, COALESCE_MS);
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      const force = this.force;
      this.force = false;
      try {
        await this.sync(force);
        this.backoff.reset();
        this.problem.ok();
      } catch (err) {
        const delay = this.backoff.next();
        this.problem.failed(err, delay);
        await sleep(delay, this.stopped.signal);
        this.again = !this.stopped.signal.aborted;
        this.force = true; // the table's state is unknown after a failed write
      }
    } while (this.again);
  }

  private async sync(force: boolean): Promise<void> {
    if (!this.services.synced || !this.slices.synced || !this.pods.synced || this.stopped.signal.aborted) return;
    const { model, problems } = buildModel(this.services.items.values(), this.slices.items.values(), this.pods.byTenant(), this.o.cfg.serviceCIDR);
    for (const p of problems) if (!this.problems.has(p)) this.o.log.warn({ problem: p }, "service skipped: it cannot be written as rules");
    this.problems = new Set(problems);
    if (model.ports.length === 0) {
      if (this.last === "" && !force) return;
      if (await this.nft.remove()) this.o.log.info({ table: this.o.cfg.table }, "services table removed: no Service needs a rule");
      this.last = "";
      return;
    }
    const r = render(model, this.o.cfg.table);
    if (r.script === this.last && !force) return;
    const existing = await this.nft.existing();
    if (r.script === this.last && existing && sameObjects(existing, r)) return;
    await this.nft.apply(transaction(r, existing, this.o.cfg.table));
    this.last = r.script;
    const endpoints = model.ports.reduce((n, p) => n + p.endpoints.length, 0);
    this.o.log.info({ table: this.o.cfg.table, servicePorts: model.ports.length, endpoints, tenants: model.tenants.length }, "services table written");
  }

  /** Pods on one bridge reach each other's Services through the host only if bridged frames see netfilter. */
  private checkBridgeNetfilter(): void {
    let v = "";
    try {
      v = readFileSync("/proc/sys/net/bridge/bridge-nf-call-iptables", "utf8").trim();
    } catch {
      // br_netfilter not loaded
    }
    if (v !== "1") {
      this.o.log.warn({ bridgeNfCallIptables: v || "absent" }, "net.bridge.bridge-nf-call-iptables is not 1 (br_netfilter): replies between pods of one bridge skip the Service's NAT and those connections fail");
    }
  }
}
