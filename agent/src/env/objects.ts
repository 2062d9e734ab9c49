// ConfigMaps and Secrets for env/envFrom, read from the control plane in the
// tenant and namespace of the pod that names them, never anywhere else (the
// node's token may read any tenant bound to it). Env sees a config map's
// `data` only, as the kubelet does: binaryData keys do not exist for it.
import { GetConfigMapRequest, GetSecretRequest, type Pod } from "@plasmacloud/proto/k8shost";
import { errorCode } from "@plasmacloud/common/errors";
import type { ControlPlane } from "../controlplane/client";

export interface EnvObjects {
  /** The config map's data, or undefined when it does not exist for the pod's tenant. */
  configMap(pod: Pod, name: string): Promise<Record<string, string> | undefined>;
  /** The secret's data, or undefined when it does not exist for the pod's tenant. */
  secret(pod: Pod, name: string): Promise<Record<string, Uint8Array> | undefined>;
}

async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (errorCode(err) === "NotFound") return undefined;
    throw err;
  }
}

export function controlPlaneEnvObjects(cp: ControlPlane): EnvObjects {
  const ref = (pod: Pod, name: string): GetConfigMapRequest["ref"] => {
    const m = pod.metadata!;
    return { orgId: m.orgId, projectId: m.projectId, namespace: m.namespace || "default", name };
  };
  return {
    async configMap(pod, name) {
      const cm = await orUndefined(cp.call("GetConfigMap", cp.configMaps.getConfigMap.bind(cp.configMaps), GetConfigMapRequest.fromPartial({ ref: ref(pod, name) })));
      return cm?.data;
    },
    async secret(pod, name) {
      const s = await orUndefined(cp.call("GetSecret", cp.secrets.getSecret.bind(cp.secrets), GetSecretRequest.fromPartial({ ref: ref(pod, name) })));
      return s?.data;
    },
  };
}
