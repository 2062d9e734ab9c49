// Who sees which Services and EndpointSlices, and the list/watch plumbing both
// kinds share. A user sees its tenant. A node sees the objects of every tenant
// with a pod bound to it, in all of that tenant's namespaces: a pod may reach
// any Service of its tenant, so its node must program them all, and nothing
// of a tenant it does not host (kube-proxy reads every Service; a node here
// serves many tenants and learns no more than its pods need). The set is
// judged at each call and each watch event; a node relists when its set of
// tenants changes.
import { status, type ServerWritableStream } from "@grpc/grpc-js";
import type { ObjectMeta, WatchEvent_Type } from "@plasmacloud/proto/k8shost";
import type { Principal, TokenStore } from "../iam/tokens";
import { ApiError, tenantOf } from "./authz";
import { toStatus } from "./rpc";
import type { KindStore } from "./services-store";
import type { Store } from "./store";

export interface KindQuery {
  orgId: string;
  projectId: string;
  namespace: string;
  labelSelector: Record<string, string>;
  nodeName: string;
}

/** Does a pod of this tenant sit on the node (bound, in any namespace)? */
export function tenantOnNode(store: Store, node: string, orgId: string, projectId: string): boolean {
  for (const p of store.pods.values()) {
    const m = p.metadata!;
    if (p.spec?.nodeName === node && m.orgId === orgId && m.projectId === projectId) return true;
  }
  return false;
}

/** The objects a principal may see at all; throws for a node asking for another node. */
export function scopeOf(store: Store, who: Principal, q: Pick<KindQuery, "orgId" | "projectId" | "nodeName">): (m: ObjectMeta) => boolean {
  if (who.kind === "node") {
    if (q.nodeName !== who.nodeName) throw new ApiError(status.PERMISSION_DENIED, `${who.name} may only list with node_name=${who.nodeName}`);
    const node = who.nodeName;
    return (m) => tenantOnNode(store, node, m.orgId, m.projectId) && (!q.orgId || q.orgId === m.orgId) && (!q.projectId || q.projectId === m.projectId);
  }
  const t = tenantOf(who, q.orgId, q.projectId);
  return (m) => m.orgId === t.orgId && m.projectId === t.projectId;
}

export function matches(m: ObjectMeta, q: Pick<KindQuery, "namespace" | "labelSelector">): boolean {
  if (q.namespace && m.namespace !== q.namespace) return false;
  return Object.entries(q.labelSelector).every(([k, v]) => m.labels[k] === v);
}

export function listKind<T extends { metadata: ObjectMeta | undefined }>(store: Store, kind: KindStore<T>, who: Principal, q: KindQuery): { items: T[]; resourceVersion: string } {
  const scope = scopeOf(store, who, q);
  const items = [...kind.values()].filter((o) => scope(o.metadata!) && matches(o.metadata!, q)).map((o) => structuredClone(o));
  return { items, resourceVersion: String(store.rv) };
}

/** A watch stream as WatchPods': replay from resource_version, then live; OUT_OF_RANGE when too old. */
export function watchKind<T extends { metadata: ObjectMeta | undefined }, Req extends KindQuery & { resourceVersion: string }, Ev>(
  store: Store,
  kind: KindStore<T>,
  tokens: TokenStore,
  call: ServerWritableStream<Req, Ev>,
  event: (type: WatchEvent_Type, obj: T, rv: string) => Ev,
): void {
  let scope: (m: ObjectMeta) => boolean;
  try {
    scope = scopeOf(store, tokens.authenticate(call.metadata), call.request);
  } catch (err) {
    return failStream(call, toStatus(err).code, toStatus(err).details);
  }
  const req = call.request;
  const from = req.resourceVersion ? Number(req.resourceVersion) : store.rv;
  if (!Number.isInteger(from) || from < 0) return failStream(call, status.INVALID_ARGUMENT, `resource_version '${req.resourceVersion}' is not valid`);
  if (from < kind.oldestWatchable()) {
    return failStream(call, status.OUT_OF_RANGE, `resource version ${from} is too old (oldest available ${kind.oldestWatchable()}); list again`);
  }
  const stop = kind.watch(from, (ev) => {
    if (!scope(ev.obj.metadata!) || !matches(ev.obj.metadata!, req)) return;
    call.write(event(ev.type, ev.obj, String(ev.rv)));
  });
  call.on("cancelled", stop);
  call.on("close", stop);
  call.on("error", stop);
}

// grpc-js sends a server stream's status only through an 'error' event.
function failStream<Req, Ev>(call: ServerWritableStream<Req, Ev>, code: status, details: string): void {
  call.emit("error", Object.assign(new Error(details), { code, details }));
}
