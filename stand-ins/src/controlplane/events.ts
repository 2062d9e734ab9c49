// EventService of the stand-in, with the API server's semantics for core/v1
// events: a name unique per namespace and tenant, resource versions (ABORTED on
// a stale one), NOT_FOUND for an unknown name, a TTL and a bound (events-store).
// Who may write: a node only about the pods bound to it (in their tenant) and
// about itself; a user within its own tenant. Node events are cluster-scoped
// (no tenant, namespace "default", as Kubernetes files them) and, like nodes
// themselves here, readable by anyone who asks for kind Node.
import { status } from "@grpc/grpc-js";
import type {
  CreateEventRequest,
  Event,
  EventServiceServer,
  ListEventsRequest,
  ListEventsResponse,
  ObjectReference,
  Pod,
  UpdateEventRequest,
} from "@plasmacloud/proto/k8shost";
import type { Principal, TokenStore } from "../iam/tokens";
import { ApiError, checkPodAccess, invalid, notFound, tenantOf } from "./authz";
import { EventStore, tenantKey, type EventStoreOptions } from "./events-store";
import { unary } from "./rpc";
import { podKey, type Store } from "./store";

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const TYPES = new Set(["Normal", "Warning"]);

/** Events live beside the object store they belong to, so a restarted server keeps them too. */
const byStore = new WeakMap<Store, EventStore>();
export function eventsOf(store: Store, o?: EventStoreOptions): EventStore {
  let e = byStore.get(store);
  if (!e) byStore.set(store, (e = new EventStore(() => store.nextRv(), o)));
  return e;
}

interface Scope {
  tenant: string;
  orgId: string;
  projectId: string;
  namespace: string;
}

function validate(e: Event | undefined, what: "create" | "update"): asserts e is Event & { involvedObject: ObjectReference } {
  if (!e) throw invalid("event", "must be set");
  const name = e.metadata?.name ?? "";
  if (!NAME.test(name) || name.length > 253) throw invalid("event.metadata.name", `'${name}' is not a DNS subdomain name`);
  const o = e.involvedObject;
  if (!o?.kind) throw invalid("event.involved_object.kind", "must not be empty");
  if (!o.name) throw invalid("event.involved_object.name", "must not be empty");
  if (what === "create" && !TYPES.has(e.type)) throw invalid("event.type", `'${e.type}' is not Normal or Warning`);
  if (what === "create" && !e.reason) throw invalid("event.reason", "must not be empty");
  if (e.count < 0) throw invalid("event.count", "must be >= 0");
}

/** Which tenant and namespace the event belongs to, and whether `who` may write it. */
function writeScope(who: Principal, e: Event & { involvedObject: ObjectReference }, store: Store): Scope {
  const m = e.metadata!;
  const o = e.involvedObject;
  if (o.kind === "Node") {
    if (who.kind !== "node") throw new ApiError(status.PERMISSION_DENIED, `${who.name} may not report events about nodes`);
    if (o.name !== who.nodeName) throw new ApiError(status.PERMISSION_DENIED, `${who.name} may only report events about node ${who.nodeName}`);
    if (m.namespace && m.namespace !== "default") throw invalid("event.metadata.namespace", "node events belong to namespace 'default'");
    return { tenant: tenantKey("", ""), orgId: "", projectId: "", namespace: "default" };
  }
  const t = tenantOf(who, m.orgId, m.projectId);
  const namespace = m.namespace || o.namespace || "default";
  if (o.namespace && o.namespace !== namespace) throw invalid("event.involved_object.namespace", `'${o.namespace}' does not match event.metadata.namespace '${namespace}'`);
  if (who.kind === "node") {
    if (o.kind !== "Pod") throw new ApiError(status.PERMISSION_DENIED, `${who.name} may only report events about its pods and itself`);
    // The node authorizer's rule: a pod of this tenant bound to this node, and the very pod (uid) if named.
    const what = `pod ${namespace}/${o.name}`;
    const pod: Pod = checkPodAccess(who, store.getPod(podKey(t.orgId, t.projectId, namespace, o.name)), what);
    if (o.uid && o.uid !== pod.metadata!.uid) throw notFound(what);
  }
  return { tenant: tenantKey(t.orgId, t.projectId), ...t, namespace };
}

const sameObject = (a: ObjectReference | undefined, b: ObjectReference): boolean =>
  !!a && a.kind === b.kind && a.name === b.name && a.uid === b.uid && (a.namespace || "") === (b.namespace || "") && a.fieldPath === b.fieldPath;

export function eventService(store: Store, events: EventStore, tokens: TokenStore): EventServiceServer {
  /** May `who` see this stored event? The same rule as writing it; node events are public. */
  const visible = (who: Principal, tenant: string, e: Event): boolean => {
    if (e.involvedObject?.kind === "Node" && tenant === tenantKey("", "")) return true;
    try {
      return writeScope(who, e as Event & { involvedObject: ObjectReference }, store).tenant === tenant;
    } catch {
      return false;
    }
  };

  return {
    createEvent: unary(tokens, (req: CreateEventRequest, who): Event => {
      const e = req.event;
      validate(e, "create");
      const s = writeScope(who, e, store);
      const m = e.metadata!;
      if (events.get(s.tenant, s.namespace, m.name)) throw new ApiError(status.ALREADY_EXISTS, `event ${s.namespace}/${m.name} already exists`);
      const now = new Date();
      Object.assign(m, { namespace: s.namespace, orgId: s.orgId, projectId: s.projectId, uid: store.newUid(), creationTimestamp: now, deletionTimestamp: undefined });
      e.involvedObject.namespace = e.involvedObject.kind === "Node" ? "" : s.namespace;
      e.firstTimestamp ??= now;
      e.lastTimestamp ??= e.firstTimestamp;
      e.count ||= 1;
      return events.put(s.tenant, e);
    }),

    updateEvent: unary(tokens, (req: UpdateEventRequest, who): Event => {
      const e = req.event;
      validate(e, "update");
      const s = writeScope(who, e, store);
      const m = e.metadata!;
      const cur = events.get(s.tenant, s.namespace, m.name);
      if (!cur) throw notFound(`event ${s.namespace}/${m.name}`);
      if (!sameObject(cur.involvedObject, { ...e.involvedObject, namespace: cur.involvedObject?.namespace ?? "" })) {
        throw invalid("event.involved_object", "is immutable");
      }
      if (m.resourceVersion && m.resourceVersion !== cur.metadata!.resourceVersion) {
        throw new ApiError(status.ABORTED, `conflict: event ${s.namespace}/${m.name} is at resource_version ${cur.metadata!.resourceVersion}, not ${m.resourceVersion}`);
      }
      cur.count = e.count || cur.count;
      cur.message = e.message;
      cur.lastTimestamp = e.lastTimestamp ?? new Date();
      return events.put(s.tenant, cur);
    }),

    listEvents: unary(tokens, (req: ListEventsRequest, who): ListEventsResponse => {
      const wantNodes = req.involvedObjectKind === "Node";
      // A user names only its own tenant (another one reads as NotFound, as for pods);
      // a node sees what it may write, in the tenant it names if it names one.
      const named = who.kind === "user" || req.orgId || req.projectId ? tenantOf(who, req.orgId, req.projectId) : undefined;
      const tenant = named && tenantKey(named.orgId, named.projectId);
      const items: Event[] = [];
      for (const { tenant: t, event: e } of events.all()) {
        const o = e.involvedObject!;
        if (req.namespace && e.metadata!.namespace !== req.namespace) continue;
        if (req.involvedObjectUid && o.uid !== req.involvedObjectUid) continue;
        if (req.involvedObjectName && o.name !== req.involvedObjectName) continue;
        if (req.involvedObjectKind && o.kind !== req.involvedObjectKind) continue;
        if (wantNodes && t === tenantKey("", "")) items.push(e);
        else if ((tenant === undefined || t === tenant) && (who.kind === "user" || visible(who, t, e))) items.push(e);
      }
      items.sort((a, b) => (a.lastTimestamp?.getTime() ?? 0) - (b.lastTimestamp?.getTime() ?? 0) || a.metadata!.name.localeCompare(b.metadata!.name));
      return { items };
    }),
  };
}

/** A control-plane component's own event (count 1, named `<object>.<hex time>` as client-go names them). */
function record(events: EventStore, store: Store, o: ObjectReference, tenant: { orgId: string; projectId: string }, component: string, reason: string, message: string): void {
  const now = new Date();
  const name = `${o.name}.${(BigInt(now.getTime()) * 1_000_000n + BigInt(store.rv % 1_000_000)).toString(16)}`;
  const namespace = o.namespace || "default";
  events.put(tenantKey(tenant.orgId, tenant.projectId), {
    metadata: { name, namespace, ...tenant, uid: store.newUid(), creationTimestamp: now, labels: {}, annotations: {}, resourceVersion: "", generation: 0n, deletionTimestamp: undefined, deletionGracePeriodSeconds: undefined },
    involvedObject: o,
    reason,
    message,
    source: { component, host: "" },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    type: "Normal",
  });
}

/** kube-scheduler's event for a pod it bound. */
export function recordScheduled(events: EventStore, store: Store, pod: Pod): void {
  const m = pod.metadata!;
  const o = { kind: "Pod", namespace: m.namespace, name: m.name, uid: m.uid, fieldPath: "" };
  record(events, store, o, { orgId: m.orgId, projectId: m.projectId }, "default-scheduler", "Scheduled", `Successfully assigned ${m.namespace}/${m.name} to ${pod.spec!.nodeName}`);
}

/** The node lifecycle controller's RegisteredNode, once per node object (uid) it sees. */
export function nodeRegistrations(events: EventStore, store: Store): () => void {
  const seen = new Set<string>();
  return () => {
    for (const n of store.nodes.values()) {
      const { name, uid } = n.metadata!;
      if (seen.has(uid)) continue;
      seen.add(uid);
      // The node's name as its uid, as the kubelet's nodeRef has it: one object for both writers.
      record(events, store, { kind: "Node", namespace: "", name, uid: name, fieldPath: "" }, { orgId: "", projectId: "" }, "node-controller", "RegisteredNode", `Node ${name} event: Registered Node ${name} in Controller`);
    }
  };
}
