// EndpointSliceService of the stand-in: list and watch for users (their
// tenant) and nodes (the tenants they host); users may also create and delete
// slices of their own for a Service without a selector, as in Kubernetes.
import { status, type ServerWritableStream } from "@grpc/grpc-js";
import {
  EndpointSliceWatchEvent,
  WatchEvent_Type,
  type CreateEndpointSliceRequest,
  type DeleteEndpointSliceRequest,
  type DeleteResponse,
  type EndpointSlice,
  type EndpointSliceServiceServer,
  type ListEndpointSlicesRequest,
  type ListEndpointSlicesResponse,
  type WatchEndpointSlicesRequest,
} from "@plasmacloud/proto/k8shost";
import type { TokenStore } from "../iam/tokens";
import { ApiError, invalid, notFound, requireUser, tenantOf } from "./authz";
import type { EndpointsController } from "./endpoints-controller";
import { CONTROLLER_NAME, MANAGED_BY_LABEL, SERVICE_NAME_LABEL } from "./endpoints-slices";
import { unary } from "./rpc";
import { parseIPv4 } from "./services-alloc";
import { listKind, watchKind } from "./services-scope";
import { objectKey } from "./services-store";
import { DNS1123_LABEL, PROTOCOLS } from "./services-validate";
import type { Store } from "./store";

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function validateSlice(s: EndpointSlice): void {
  const m = s.metadata;
  if (!m?.name || !SUBDOMAIN.test(m.name) || m.name.length > 253) throw invalid("metadata.name", `'${m?.name ?? ""}' is not a DNS subdomain name`);
  m.namespace ||= "default";
  const svc = m.labels[SERVICE_NAME_LABEL];
  if (!svc) throw invalid(`metadata.labels["${SERVICE_NAME_LABEL}"]`, "must name the Service the slice belongs to");
  if (m.labels[MANAGED_BY_LABEL] === CONTROLLER_NAME) throw invalid(`metadata.labels["${MANAGED_BY_LABEL}"]`, `'${CONTROLLER_NAME}' is the control plane's own; slices of a Service with a selector are kept by it`);
  s.addressType ||= "IPv4";
  if (s.addressType !== "IPv4") throw invalid("addressType", `'${s.addressType}' is not served here (IPv4 only)`);
  s.endpoints.forEach((e, i) => {
    if (e.addresses.length !== 1 || parseIPv4(e.addresses[0]!) === undefined) throw invalid(`endpoints[${i}].addresses`, "must hold exactly one IPv4 address");
    if (e.hostname && (!DNS1123_LABEL.test(e.hostname) || e.hostname.length > 63)) throw invalid(`endpoints[${i}].hostname`, `'${e.hostname}' is not a DNS label`);
    // Unknown readiness is read as ready (the API's documented meaning of nil); say so explicitly.
    const c = (e.conditions ??= {});
    c.ready ??= true;
    c.serving ??= c.ready;
    c.terminating ??= false;
  });
  s.ports.forEach((p, i) => {
    if (p.name && (!DNS1123_LABEL.test(p.name) || p.name.length > 63)) throw invalid(`ports[${i}].name`, `'${p.name}' is not a DNS label`);
    p.protocol ||= "TCP";
    if (!(PROTOCOLS as readonly string[]).includes(p.protocol)) throw invalid(`ports[${i}].protocol`, `'${p.protocol}' is not one of ${PROTOCOLS.join(", ")}`);
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw invalid(`ports[${i}].port`, `must be 1-65535, got ${p.port}`);
  });
}

export function endpointSliceService(store: Store, tokens: TokenStore, controller: EndpointsController): EndpointSliceServiceServer {
  return {
    listEndpointSlices: unary(tokens, (req: ListEndpointSlicesRequest, who): ListEndpointSlicesResponse => listKind(store, store.endpointSlices, who, req)),

    watchEndpointSlices(call: ServerWritableStream<WatchEndpointSlicesRequest, EndpointSliceWatchEvent>): void {
      watchKind(store, store.endpointSlices, tokens, call, (type, endpointSlice, resourceVersion) => EndpointSliceWatchEvent.fromPartial({ type, endpointSlice, resourceVersion }));
    },

    createEndpointSlice: unary(tokens, (req: CreateEndpointSliceRequest, who) => {
      requireUser(who, "create endpoint slices");
      const s = req.endpointSlice;
      if (!s) throw invalid("endpointSlice", "must be set");
      validateSlice(s);
      const m = s.metadata!;
      m.orgId = who.orgId;
      m.projectId = who.projectId;
      if (store.endpointSlices.has(objectKey(m))) throw new ApiError(status.ALREADY_EXISTS, `endpointslice ${m.namespace}/${m.name} already exists`);
      m.uid = store.newUid();
      m.creationTimestamp = new Date();
      m.generation = 1n;
      return store.endpointSlices.put(s, WatchEvent_Type.ADDED);
    }),

    deleteEndpointSlice: unary(tokens, (req: DeleteEndpointSliceRequest, who): DeleteResponse => {
      requireUser(who, "delete endpoint slices");
      if (!req.ref?.name) throw invalid("ref.name", "must not be empty");
      const t = tenantOf(who, req.ref.orgId, req.ref.projectId);
      const ns = req.ref.namespace || "default";
      const cur = store.endpointSlices.get(objectKey({ ...t, namespace: ns, name: req.ref.name }));
      if (!cur) throw notFound(`endpointslice ${ns}/${req.ref.name}`);
      store.endpointSlices.put(cur, WatchEvent_Type.DELETED);
      // A controller's slice comes back at once, as the real controller would make it again.
      controller.resyncAll();
      return {};
    }),
  };
}
