// Where the tenant (org, project) and subnet of an attachment come from.
// Each field is resolved on its own; the first source that sets it wins:
//   1. runtimeConfig.novanet.{org_id,project_id,subnet_id}   (runtime, per call)
//   1b. runtimeConfig["io.kubernetes.cri.pod-annotations"]["plasmacloud.io/{org-id,project-id,subnet-id}"]
//      (containerd passes the sandbox's annotations when the plugin declares
//      that capability; k8shost-agent puts each pod's tenant and subnet there)
//   2. args.cni.novanet.{org_id,project_id,subnet_id}        (runtime, per call)
//   3. CNI_ARGS NOVANET_ORG_ID / NOVANET_PROJECT_ID / NOVANET_SUBNET_ID
//   4. top-level org_id / project_id / subnet_id               (the node's default)
// Per-invocation values override the static file so one conflist can serve
// pods of many tenants. K8S_POD_* in CNI_ARGS only label the attachment.
import { CniCode, CniError } from "../errors.js";

export interface TenantContext { orgId?: string; projectId?: string; subnetId?: string }
export interface K8sPod { namespace?: string; name?: string; uid?: string; infraContainerId?: string }

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

const KEYS = [
  ["orgId", "org_id", "NOVANET_ORG_ID", "plasmacloud.io/org-id"],
  ["projectId", "project_id", "NOVANET_PROJECT_ID", "plasmacloud.io/project-id"],
  ["subnetId", "subnet_id", "NOVANET_SUBNET_ID", "plasmacloud.io/subnet-id"],
] as const;

/** The runtimeConfig capability through which containerd/CRI-O pass pod annotations. */
export const POD_ANNOTATIONS = "io.kubernetes.cri.pod-annotations";

function pick(src: unknown, key: string, where: string): string | undefined {
  if (!isObj(src)) return undefined;
  const v = src[key];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw new CniError(CniCode.InvalidConfig, `invalid network config: ${where}.${key} must be a string`);
  return v;
}

export function resolveTenant(conf: Json, cniArgs: [string, string][]): { tenant: TenantContext; pod: K8sPod } {
  const rc = isObj(conf.runtimeConfig) ? conf.runtimeConfig.novanet : undefined;
  const ann = isObj(conf.runtimeConfig) ? conf.runtimeConfig[POD_ANNOTATIONS] : undefined;
  const args = isObj(conf.args) && isObj(conf.args.cni) ? conf.args.cni.novanet : undefined;
  const env = new Map(cniArgs);
  const tenant: TenantContext = {};
  for (const [field, key, envKey, annKey] of KEYS) {
    tenant[field] = pick(rc, key, "runtimeConfig.novanet") ?? pick(ann, annKey, `runtimeConfig["${POD_ANNOTATIONS}"]`) ?? pick(args, key, "args.cni.novanet")
      ?? (env.get(envKey) || undefined) ?? pick(conf, key, "config");
  }
  const pod: K8sPod = {
    namespace: env.get("K8S_POD_NAMESPACE"), name: env.get("K8S_POD_NAME"),
    uid: env.get("K8S_POD_UID"), infraContainerId: env.get("K8S_POD_INFRA_CONTAINER_ID"),
  };
  return { tenant, pod };
}
