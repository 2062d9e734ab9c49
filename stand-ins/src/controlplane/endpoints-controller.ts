// The endpoints controller: keeps each Service's EndpointSlices equal to what
// its pods say (endpoints-slices.ts), level-triggered. A pod change re-syncs
// the Services of its tenant and namespace, a Service change that Service;
// each sync computes the slices from scratch and writes only what differs.
// Slices it did not make (no managed-by label of its own) are never touched.
import { WatchEvent_Type, type EndpointSlice, type Service } from "@plasmacloud/proto/k8shost";
import { CONTROLLER_NAME, desiredSlices, MANAGED_BY_LABEL, SERVICE_NAME_LABEL, sameSlice } from "./endpoints-slices";
import { objectKey } from "./services-store";
import type { Store } from "./store";

export interface EndpointsController {
  /** Syncs every Service (and drops slices of Services that are gone). */
  resyncAll(): void;
  stop(): void;
}

const managedFor = (s: EndpointSlice, svc: { orgId: string; projectId: string; namespace: string; name: string }): boolean => {
  const m = s.metadata!;
  return m.labels[MANAGED_BY_LABEL] === CONTROLLER_NAME && m.labels[SERVICE_NAME_LABEL] === svc.name && m.orgId === svc.orgId && m.projectId === svc.projectId && m.namespace === svc.namespace;
};

export function startEndpointsController(store: Store): EndpointsController {
  /** Makes the slices of the Service named by `ref` right; `svc` undefined = it is gone. */
  const sync = (ref: { orgId: string; projectId: string; namespace: string; name: string }): void => {
    const svc = store.services.get(objectKey(ref));
    const want = svc ? desiredSlices(svc, store.pods.values()) : [];
    const have = [...store.endpointSlices.values()].filter((s) => managedFor(s, ref));
    for (const w of want) {
      const cur = have.find((h) => h.metadata!.name === w.metadata!.name);
      if (cur && sameSlice(cur, w)) continue;
      const m = w.metadata!;
      m.uid = cur?.metadata!.uid ?? store.newUid();
      m.creationTimestamp = cur?.metadata!.creationTimestamp ?? new Date();
      m.generation = (cur?.metadata!.generation ?? 0n) + 1n;
      store.endpointSlices.put(w, cur ? WatchEvent_Type.MODIFIED : WatchEvent_Type.ADDED);
    }
    for (const h of have) {
      if (!want.some((w) => w.metadata!.name === h.metadata!.name)) store.endpointSlices.put(structuredClone(h), WatchEvent_Type.DELETED);
    }
  };
  const syncNamespace = (orgId: string, projectId: string, namespace: string): void => {
    const names = [...store.services.values()].filter((s) => {
      const m = s.metadata!;
      return m.orgId === orgId && m.projectId === projectId && m.namespace === namespace;
    });
    for (const s of names) sync(s.metadata!);
  };
  const resyncAll = (): void => {
    const refs = new Map<string, { orgId: string; projectId: string; namespace: string; name: string }>();
    for (const s of store.services.values()) refs.set(objectKey(s.metadata!), s.metadata!);
    for (const sl of store.endpointSlices.values()) {
      const m = sl.metadata!;
      if (m.labels[MANAGED_BY_LABEL] !== CONTROLLER_NAME) continue;
      const ref = { orgId: m.orgId, projectId: m.projectId, namespace: m.namespace, name: m.labels[SERVICE_NAME_LABEL] ?? "" };
      refs.set(objectKey(ref), ref);
    }
    for (const r of [...refs.values()].map((x) => ({ orgId: x.orgId, projectId: x.projectId, namespace: x.namespace, name: x.name }))) sync(r);
  };

  const stopPods = store.watch(store.rv, (ev) => {
    const m = ev.pod.metadata!;
    syncNamespace(m.orgId, m.projectId, m.namespace);
  });
  const stopServices = store.services.watch(store.rv, (ev: { obj: Service }) => sync(ev.obj.metadata!));
  resyncAll();
  return {
    resyncAll,
    stop() {
      stopPods();
      stopServices();
    },
  };
}
