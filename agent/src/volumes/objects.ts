// Reads configMaps and secrets from the control plane, always in the tenant of
// the pod that references them (the node token may read any tenant bound to
// it, so the tenant must come from the pod, never from the volume source).
import { GetConfigMapRequest, GetSecretRequest, type Pod } from "@plasmacloud/proto/k8shost";
import { errorCode } from "@plasmacloud/common/errors";
import type { ControlPlane } from "../controlplane/client";

/** Key -> bytes, or undefined when the object does not exist (for this tenant). */
export type ObjectData = Map<string, Uint8Array> | undefined;

export interface ObjectReader {
  configMap(pod: Pod, name: string): Promise<ObjectData>;
  secret(pod: Pod, name: string): Promise<ObjectData>;
}

const refOf = (pod: Pod, name: string): { orgId: string; projectId: string; namespace: string; name: string } => {
  const m = pod.metadata!;
  return { orgId: m.orgId, projectId: m.projectId, namespace: m.namespace, name };
};

async function notFoundAsUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (errorCode(err) === "NotFound") return undefined;
    throw err;
  }
}

export function controlPlaneObjects(cp: ControlPlane): ObjectReader {
  const utf8 = new TextEncoder();
  return {
    async configMap(pod, name) {
      const cm = await notFoundAsUndefined(cp.call("GetConfigMap", cp.configMaps.getConfigMap.bind(cp.configMaps), GetConfigMapRequest.fromPartial({ ref: refOf(pod, name) })));
      if (!cm) return undefined;
      const out = new Map<string, Uint8Array>(Object.entries(cm.data).map(([k, v]) => [k, utf8.encode(v)]));
      for (const [k, v] of Object.entries(cm.binaryData)) out.set(k, v);
      return out;
    },
    async secret(pod, name) {
      const s = await notFoundAsUndefined(cp.call("GetSecret", cp.secrets.getSecret.bind(cp.secrets), GetSecretRequest.fromPartial({ ref: refOf(pod, name) })));
      return s ? new Map(Object.entries(s.data)) : undefined;
    },
  };
}
