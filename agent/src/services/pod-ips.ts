// Which pod IPs on this node belong to which tenant, from the pods the control
// plane has bound here (the pod source's events, teed off the pod
// controller's): the sources that may reach a tenant's cluster IPs. Pods on
// the host network have the host's address and are never a tenant's source;
// finished pods hold no address any more.
import type { Pod } from "@plasmacloud/proto/k8shost";
import type { PodSink } from "../controlplane/podsource";
import { tenantId, type TenantRef } from "./model";

interface Entry {
  tenant: TenantRef;
  ips: string[];
}

export class PodIPs {
  private readonly pods = new Map<string, Entry>();
  /** The full set as of a complete list has been seen. */
  synced = false;

  /** `onChange`: an address set changed; `onTenants`: the set of tenants on the node changed. */
  constructor(private readonly onChange: () => void, private readonly onTenants: () => void) {}

  /** Tenant id -> its tenant and pod IPs on this node. */
  byTenant(): Map<string, { tenant: TenantRef; ips: Set<string> }> {
    const out = new Map<string, { tenant: TenantRef; ips: Set<string> }>();
    for (const e of this.pods.values()) {
      const id = tenantId(e.tenant);
      const t = out.get(id) ?? { tenant: e.tenant, ips: new Set<string>() };
      for (const ip of e.ips) t.ips.add(ip);
      out.set(id, t);
    }
    return out;
  }

  /** Every pod bound here counts for the tenant set, with an address or not yet. */
  private tenants(): string {
    return [...new Set([...this.pods.values()].map((e) => tenantId(e.tenant)))].sort().join(",");
  }

  private set(uid: string, e: Entry | undefined): void {
    const before = this.pods.get(uid);
    if (JSON.stringify(before) === JSON.stringify(e)) return;
    // The tenant set (a pass over every pod) can only change when a pod comes, goes or changes tenant.
    const tenantMoved = !before || !e || tenantId(before.tenant) !== tenantId(e.tenant);
    const tenantsBefore = tenantMoved ? this.tenants() : "";
    if (e) this.pods.set(uid, e);
    else this.pods.delete(uid);
    if (tenantMoved && this.tenants() !== tenantsBefore) this.onTenants();
    this.onChange();
  }

  /** A PodSink that records addresses and passes everything on to `next`. */
  tee(next: PodSink): PodSink {
    return {
      upsert: (pod: Pod) => {
        next.upsert(pod);
        const m = pod.metadata!;
        const s = pod.status;
        const done = s?.phase === "Succeeded" || s?.phase === "Failed";
        const ips = pod.spec?.hostNetwork || done ? [] : [...new Set([s?.podIp ?? "", ...(s?.podIps ?? []).map((p) => p.ip)].filter(Boolean))].sort();
        this.set(m.uid, { tenant: { orgId: m.orgId, projectId: m.projectId }, ips });
      },
      remove: (uid: string, last?: Pod) => {
        next.remove(uid, last);
        this.set(uid, undefined);
      },
      synced: () => {
        next.synced();
        if (!this.synced) {
          this.synced = true;
          this.onChange();
        }
      },
    };
  }
}
