// PodService of the stand-in, with the API server's semantics.
import { status, type ServerWritableStream } from "@grpc/grpc-js";
import {
  WatchEvent,
  WatchEvent_Type,
  type CreatePodRequest,
  type DeletePodRequest,
  type GetPodRequest,
  type ListPodsRequest,
  type ListPodsResponse,
  type Pod,
  type PodServiceServer,
  type UpdatePodRequest,
  type UpdatePodStatusRequest,
  type WatchPodsRequest,
} from "@plasmacloud/proto/k8shost";
import type { Principal, TokenStore } from "../iam/tokens";
import { ApiError, checkPodAccess, invalid, requireUser, tenantOf } from "./authz";
import { toStatus, unary } from "./rpc";
import { keyOf, podKey, type Store } from "./store";

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function validate(pod: Pod): void {
  const m = pod.metadata;
  if (!m?.name || !NAME.test(m.name) || m.name.length > 253) throw invalid("metadata.name", `'${m?.name ?? ""}' is not a DNS subdomain name`);
  if (!pod.spec || pod.spec.containers.length === 0) throw invalid("spec.containers", "at least one container is required");
  pod.spec.containers.forEach((c, i) => {
    if (!c.name) throw invalid(`spec.containers[${i}].name`, "must not be empty");
    if (!c.image) throw invalid(`spec.containers[${i}].image`, "must not be empty");
  });
}

function matches(pod: Pod, q: { namespace: string; labelSelector: Record<string, string>; nodeName: string }): boolean {
  if (q.namespace && pod.metadata!.namespace !== q.namespace) return false;
  if (q.nodeName && pod.spec?.nodeName !== q.nodeName) return false;
  return Object.entries(q.labelSelector).every(([k, v]) => pod.metadata!.labels[k] === v);
}

/** Scope of a list/watch: a node sees its own pods in every tenant. */
function listScope(who: Principal, q: { orgId: string; projectId: string; nodeName: string }): (p: Pod) => boolean {
  if (who.kind === "node") {
    if (q.nodeName !== who.nodeName) throw new ApiError(status.PERMISSION_DENIED, `${who.name} may only list pods with node_name=${who.nodeName}`);
    return () => true;
  }
  const t = tenantOf(who, q.orgId, q.projectId);
  return (p) => p.metadata!.orgId === t.orgId && p.metadata!.projectId === t.projectId;
}

export function podService(store: Store, tokens: TokenStore, schedule: () => void): PodServiceServer {
  const find = (who: Principal, ref: { orgId: string; projectId: string; namespace: string; name: string } | undefined): Pod => {
    if (!ref?.name) throw invalid("ref.name", "must not be empty");
    const t = tenantOf(who, ref.orgId, ref.projectId);
    return checkPodAccess(who, store.getPod(podKey(t.orgId, t.projectId, ref.namespace || "default", ref.name)), `pod ${ref.namespace || "default"}/${ref.name}`);
  };

  return {
    createPod: unary(tokens, (req: CreatePodRequest, who) => {
      requireUser(who, "create pods");
      const pod = req.pod;
      if (!pod) throw invalid("pod", "must be set");
      validate(pod);
      const m = pod.metadata!;
      m.namespace ||= "default";
      m.orgId = who.orgId;
      m.projectId = who.projectId;
      if (store.pods.has(keyOf(pod))) throw new ApiError(status.ALREADY_EXISTS, `pod ${m.namespace}/${m.name} already exists`);
      m.uid = store.newUid();
      m.creationTimestamp = new Date();
      m.deletionTimestamp = undefined;
      m.deletionGracePeriodSeconds = undefined;
      m.generation = 1n;
      pod.status = { phase: "Pending", conditions: [], message: "", reason: "", hostIp: "", podIp: "", podIps: [], startTime: undefined, containerStatuses: [], initContainerStatuses: [], qosClass: "" };
      const out = store.putPod(pod, WatchEvent_Type.ADDED);
      if (!pod.spec!.nodeName) schedule();
      return out;
    }),

    getPod: unary(tokens, (req: GetPodRequest, who) => find(who, req.ref)),

    listPods: unary(tokens, (req: ListPodsRequest, who): ListPodsResponse => {
      const scope = listScope(who, req);
      const items = [...store.pods.values()].filter((p) => scope(p) && matches(p, req)).map((p) => structuredClone(p));
      return { items, resourceVersion: String(store.rv) };
    }),

    updatePod: unary(tokens, (req: UpdatePodRequest, who) => {
      requireUser(who, "update pods");
      const m = req.pod?.metadata;
      const cur = find(who, m ? { orgId: m.orgId, projectId: m.projectId, namespace: m.namespace, name: m.name } : undefined);
      if (m!.resourceVersion && m!.resourceVersion !== cur.metadata!.resourceVersion) {
        throw new ApiError(status.ABORTED, `conflict: pod ${m!.namespace}/${m!.name} is at resource_version ${cur.metadata!.resourceVersion}, not ${m!.resourceVersion}`);
      }
      if (req.pod!.spec?.nodeName !== cur.spec?.nodeName && cur.spec?.nodeName) throw invalid("spec.node_name", "is immutable once bound");
      validate(req.pod!);
      cur.metadata!.labels = m!.labels;
      cur.metadata!.annotations = m!.annotations;
      cur.metadata!.generation += 1n;
      cur.spec = req.pod!.spec;
      return store.putPod(cur, WatchEvent_Type.MODIFIED);
    }),

    updatePodStatus: unary(tokens, (req: UpdatePodStatusRequest, who) => {
      const cur = find(who, req.ref);
      if (req.uid && req.uid !== cur.metadata!.uid) throw new ApiError(status.ABORTED, `conflict: uid ${req.uid} does not match the pod's ${cur.metadata!.uid}`);
      if (req.resourceVersion && req.resourceVersion !== cur.metadata!.resourceVersion) throw new ApiError(status.ABORTED, `conflict: stale resource_version ${req.resourceVersion}`);
      if (!req.status) throw invalid("status", "must be set");
      cur.status = req.status;
      return store.putPod(cur, WatchEvent_Type.MODIFIED);
    }),

    deletePod: unary(tokens, (req: DeletePodRequest, who) => {
      const cur = find(who, req.ref);
      if (req.uid && req.uid !== cur.metadata!.uid) throw new ApiError(status.ABORTED, `conflict: uid ${req.uid} does not match the pod's ${cur.metadata!.uid}`);
      if (who.kind === "node" && req.gracePeriodSeconds !== 0n) throw new ApiError(status.PERMISSION_DENIED, "a node only finalizes deletions (grace_period_seconds=0)");
      const grace = req.gracePeriodSeconds ?? cur.spec?.terminationGracePeriodSeconds ?? 30n;
      if (grace < 0n) throw invalid("grace_period_seconds", "must be >= 0");
      const m = cur.metadata!;
      // Unbound pods have nothing to stop; grace 0 is the node's "containers are gone"
      // or a force delete. As on a real API server, the final object says so.
      if (!cur.spec?.nodeName || grace === 0n) {
        if (grace === 0n) {
          m.deletionGracePeriodSeconds = 0n;
          m.deletionTimestamp ??= new Date();
        }
        return store.putPod(cur, WatchEvent_Type.DELETED);
      }
      if (m.deletionGracePeriodSeconds !== undefined && m.deletionGracePeriodSeconds <= grace) return cur; // only shortening changes it
      m.deletionGracePeriodSeconds = grace;
      m.deletionTimestamp = new Date(Date.now() + Number(grace) * 1000);
      return store.putPod(cur, WatchEvent_Type.MODIFIED);
    }),

    watchPods(call: ServerWritableStream<WatchPodsRequest, WatchEvent>): void {
      let scope: (p: Pod) => boolean;
      try {
        scope = listScope(tokens.authenticate(call.metadata), call.request);
      } catch (err) {
        failStream(call, toStatus(err).code, toStatus(err).details);
        return;
      }
      const req = call.request;
      const from = req.resourceVersion ? Number(req.resourceVersion) : store.rv;
      if (!Number.isInteger(from) || from < 0) {
        failStream(call, status.INVALID_ARGUMENT, `resource_version '${req.resourceVersion}' is not valid`);
        return;
      }
      if (from < store.oldestWatchable()) {
        failStream(call, status.OUT_OF_RANGE, `resource version ${from} is too old (oldest available ${store.oldestWatchable()}); list again`);
        return;
      }
      const stop = store.watch(from, (ev) => {
        // A pod leaving the watcher's filter (e.g. unbound) would look like a
        // delete to a real informer; bindings never change here, so filter plainly.
        if (!scope(ev.pod) || !matches(ev.pod, req)) return;
        call.write(WatchEvent.fromPartial({ type: ev.type, pod: ev.pod, resourceVersion: String(ev.rv) }));
      });
      call.on("cancelled", stop);
      call.on("close", stop);
      call.on("error", stop);
    },
  };
}

// grpc-js sends a server stream's status only through an 'error' event;
// destroy(err) would leave the client waiting forever.
function failStream(call: ServerWritableStream<WatchPodsRequest, WatchEvent>, code: status, details: string): void {
  call.emit("error", Object.assign(new Error(details), { code, details }));
}

