// ConfigMapService and SecretService of the stand-in.
import { status } from "@grpc/grpc-js";
import type {
  ConfigMap,
  ConfigMapServiceServer,
  CreateConfigMapRequest,
  CreateSecretRequest,
  DeleteConfigMapRequest,
  DeleteResponse,
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

/** One tenant-scoped object kind; the services below put auth and gRPC around it. */
function objectStore<T extends { metadata: ObjectMeta | undefined }>(store: Store, map: Map<string, T>, kind: Kind) {
  const keyFor = (who: Principal, ref: ObjectRef | undefined): { key: string; ns: string; t: { orgId: string; projectId: string } } => {
    if (!ref?.name) throw invalid("ref.name", "must not be empty");
    const t = tenantOf(who, ref.orgId, ref.projectId);
    const ns = ref.namespace || "default";
    return { key: podKey(t.orgId, t.projectId, ns, ref.name), ns, t };
  };
  return {
    create(obj: T | undefined, who: Principal): T {
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
    },
    get(ref: ObjectRef | undefined, who: Principal): T {
      const { key, ns, t } = keyFor(who, ref);
      const obj = map.get(key);
      if (!obj) throw notFound(`${kind} ${ns}/${ref!.name}`);
      if (who.kind === "node" && !referencedByNodePod(store.pods.values(), who.nodeName ?? "", t.orgId, t.projectId, ns, kind, ref!.name)) {
        throw notFound(`${kind} ${ns}/${ref!.name}`); // not referenced by a pod of this node: does not exist for it
      }
      return structuredClone(obj);
    },
    delete(ref: ObjectRef | undefined, who: Principal): DeleteResponse {
      requireUser(who, `delete ${kind}s`);
      const { key, ns } = keyFor(who, ref);
      if (!map.delete(key)) throw notFound(`${kind} ${ns}/${ref!.name}`);
      return {};
    },
  };
}

export function configMapService(store: Store, tokens: TokenStore): ConfigMapServiceServer {
  const s = objectStore<ConfigMap>(store, store.configMaps, "configMap");
  return {
    createConfigMap: unary(tokens, (r: CreateConfigMapRequest, who) => s.create(r.configMap, who)),
    getConfigMap: unary(tokens, (r: GetConfigMapRequest, who) => s.get(r.ref, who)),
    deleteConfigMap: unary(tokens, (r: DeleteConfigMapRequest, who) => s.delete(r.ref, who)),
  };
}

export function secretService(store: Store, tokens: TokenStore): SecretServiceServer {
  const s = objectStore<Secret>(store, store.secrets, "secret");
  return {
    createSecret: unary(tokens, (r: CreateSecretRequest, who) => s.create(r.secret, who)),
    getSecret: unary(tokens, (r: GetSecretRequest, who) => s.get(r.ref, who)),
    deleteSecret: unary(tokens, (r: DeleteSecretRequest, who) => s.delete(r.ref, who)),
  };
}
