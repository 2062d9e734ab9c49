// ConfigMapService and SecretService of the stand-in.
import { status } from "@grpc/grpc-js";
import type {
  ConfigMap,
  ConfigMapServiceServer,
  CreateConfigMapRequest,
  CreateSecretRequest,
  DeleteConfigMapRequest,
  DeleteSecretRequest,
  GetConfigMapRequest,
  GetSecretRequest,
  ObjectMeta,
  ObjectRef,
  Secret,
  SecretServiceServer,
} from "@plasmacloud/proto/k8shost";
import type { Principal, TokenStore } from "../iam/tokens";
import { ApiError, invalid, notFound, referencedByNodePod, requireUser, tenantOf } from "./authz";
import { unary } from "./rpc";
import { podKey, type Store } from "./store";

type Kind = "secret" | "configMap";

function objectStore<T extends { metadata: ObjectMeta | undefined }>(store: Store, tokens: TokenStore, map: Map<string, T>, kind: Kind) {
  const keyFor = (who: Principal, ref: ObjectRef | undefined): { key: string; ns: string; t: { orgId: string; projectId: string } } => {
    if (!ref?.name) throw invalid("ref.name", "must not be empty");
    const t = tenantOf(who, ref.orgId, ref.projectId);
    const ns = ref.namespace || "default";
    return { key: podKey(t.orgId, t.projectId, ns, ref.name), ns, t };
  };
  return {
    create: unary(tokens, (obj: T | undefined, who): T => {
      requireUser(who, `create ${kind}s`);
      const m = obj?.metadata;
      if (!m?.name) throw invalid(`${kind}.metadata.name`, "must not be empty");
      m.namespace ||= "default";
      m.orgId = who.orgId;
      m.projectId = who.projectId;
      const key = podKey(m.orgId, m.projectId, m.namespace, m.name);
      if (map.has(key)) throw new ApiError(status.ALREADY_EXISTS, `${kind} ${m.namespace}/${m.name} already exists`);
      m.uid = store.newUid();
      m.creationTimestamp = new Date();
      m.resourceVersion = store.nextRv();
      map.set(key, structuredClone(obj!));
      return structuredClone(obj!);
    }),
    get: unary(tokens, (ref: ObjectRef | undefined, who): T => {
      const { key, ns, t } = keyFor(who, ref);
      const obj = map.get(key);
      if (!obj) throw notFound(`${kind} ${ns}/${ref!.name}`);
      if (who.kind === "node" && !referencedByNodePod(store.pods.values(), who.nodeName ?? "", t.orgId, t.projectId, ns, kind, ref!.name)) {
        throw notFound(`${kind} ${ns}/${ref!.name}`); // not referenced by a pod of this node: does not exist for it
      }
      return structuredClone(obj);
    }),
    delete: unary(tokens, (ref: ObjectRef | undefined, who) => {
      requireUser(who, `delete ${kind}s`);
      const { key, ns } = keyFor(who, ref);
      if (!map.delete(key)) throw notFound(`${kind} ${ns}/${ref!.name}`);
      return {};
    }),
  };
}

// The generic handlers take the inner object; adapt the request shapes.
type H<Req, Res> = (call: { request: Req } & object, cb: (e: unknown, r?: Res) => void) => void;
const adapt = <Req, Inner, Res>(h: unknown, pick: (r: Req) => Inner): H<Req, Res> => (call, cb) => (h as H<Inner, Res>)({ ...call, request: pick(call.request), metadata: (call as unknown as { metadata: unknown }).metadata } as { request: Inner }, cb);

export function configMapService(store: Store, tokens: TokenStore): ConfigMapServiceServer {
  const s = objectStore<ConfigMap>(store, tokens, store.configMaps, "configMap");
  return {
    createConfigMap: adapt<CreateConfigMapRequest, ConfigMap | undefined, ConfigMap>(s.create, (r) => r.configMap),
    getConfigMap: adapt<GetConfigMapRequest, ObjectRef | undefined, ConfigMap>(s.get, (r) => r.ref),
    deleteConfigMap: adapt<DeleteConfigMapRequest, ObjectRef | undefined, object>(s.delete, (r) => r.ref),
  } as unknown as ConfigMapServiceServer;
}

export function secretService(store: Store, tokens: TokenStore): SecretServiceServer {
  const s = objectStore<Secret>(store, tokens, store.secrets, "secret");
  return {
    createSecret: adapt<CreateSecretRequest, Secret | undefined, Secret>(s.create, (r) => r.secret),
    getSecret: adapt<GetSecretRequest, ObjectRef | undefined, Secret>(s.get, (r) => r.ref),
    deleteSecret: adapt<DeleteSecretRequest, ObjectRef | undefined, object>(s.delete, (r) => r.ref),
  } as unknown as SecretServiceServer;
}
