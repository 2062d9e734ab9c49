// ServiceService of the stand-in: Services in the user's tenant with cluster
// IPs and node ports from the allocator; nodes read them (services-scope.ts).
import { status, type ServerWritableStream } from "@grpc/grpc-js";
import {
  ServiceWatchEvent,
  WatchEvent_Type,
  type CreateServiceRequest,
  type DeleteServiceRequest,
  type GetServiceRequest,
  type ListServicesRequest,
  type ListServicesResponse,
  type ObjectRef,
  type Service,
  type ServiceServiceServer,
  type WatchServicesRequest,
} from "@plasmacloud/proto/k8shost";
import type { Principal, TokenStore } from "../iam/tokens";
import { ApiError, invalid, notFound, requireUser, tenantOf } from "./authz";
import { unary } from "./rpc";
import { allocate, parseCidr, DEFAULT_SERVICE_CIDR } from "./services-alloc";
import { listKind, tenantOnNode, watchKind } from "./services-scope";
import { objectKey } from "./services-store";
import { validateService } from "./services-validate";
import type { Store } from "./store";

/** The Service a principal names, or NotFound (another tenant's, or a tenant its node does not host). */
export function findService(store: Store, who: Principal, ref: ObjectRef | undefined): Service {
  if (!ref?.name) throw invalid("ref.name", "must not be empty");
  const t = tenantOf(who, ref.orgId, ref.projectId);
  const ns = ref.namespace || "default";
  const svc = store.services.get(objectKey({ ...t, namespace: ns, name: ref.name }));
  if (!svc || (who.kind === "node" && !tenantOnNode(store, who.nodeName ?? "", t.orgId, t.projectId))) throw notFound(`service ${ns}/${ref.name}`);
  return svc;
}

export function serviceService(store: Store, tokens: TokenStore, serviceCidr = DEFAULT_SERVICE_CIDR): ServiceServiceServer {
  const cidr = parseCidr(serviceCidr);
  return {
    createService: unary(tokens, (req: CreateServiceRequest, who) => {
      requireUser(who, "create services");
      const svc = req.service;
      if (!svc) throw invalid("service", "must be set");
      validateService(svc);
      const m = svc.metadata!;
      m.orgId = who.orgId;
      m.projectId = who.projectId;
      if (store.services.has(objectKey(m))) throw new ApiError(status.ALREADY_EXISTS, `service ${m.namespace}/${m.name} already exists`);
      allocate(svc, store.services.values(), cidr);
      m.uid = store.newUid();
      m.creationTimestamp = new Date();
      m.deletionTimestamp = undefined;
      m.deletionGracePeriodSeconds = undefined;
      m.generation = 1n;
      return store.services.put(svc, WatchEvent_Type.ADDED);
    }),

    getService: unary(tokens, (req: GetServiceRequest, who) => findService(store, who, req.ref)),

    listServices: unary(tokens, (req: ListServicesRequest, who): ListServicesResponse => listKind(store, store.services, who, req)),

    deleteService: unary(tokens, (req: DeleteServiceRequest, who) => {
      requireUser(who, "delete services");
      const cur = findService(store, who, req.ref);
      if (req.uid && req.uid !== cur.metadata!.uid) throw new ApiError(status.ABORTED, `conflict: uid ${req.uid} does not match the service's ${cur.metadata!.uid}`);
      cur.metadata!.deletionTimestamp = new Date();
      return store.services.put(cur, WatchEvent_Type.DELETED);
    }),

    watchServices(call: ServerWritableStream<WatchServicesRequest, ServiceWatchEvent>): void {
      watchKind(store, store.services, tokens, call, (type, service, resourceVersion) => ServiceWatchEvent.fromPartial({ type, service, resourceVersion }));
    },
  };
}
