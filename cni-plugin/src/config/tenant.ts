// Where the tenant (org, project) and subnet of an attachment come from.
// Each field is resolved on its own; the first source that sets it wins:
//   1. runtimeConfig.novanet.{org_id,project_id,subnet_id}   (runtime, per call)
//   1b. the pod annotations TenantKeys (@plasmacloud/proto/annotations) in
//      runtimeConfig[POD_ANNOTATIONS_CAPABILITY] (containerd passes the
//      sandbox's annotations when the plugin declares that capability;
//      k8shost-agent puts each pod's tenant and subnet there)
//   2. args.cni.novanet.{org_id,project_id,subnet_id}        (runtime, per call)
//   3. CNI_ARGS NOVANET_ORG_ID / NOVANET_PROJECT_ID / NOVANET_SUBNET_ID
//   4. top-level org_id / project_id / subnet_id               (the node's default)
// Per-invocation values override the static file so one conflist can serve
// pods of many tenants. K8S_POD_* in CNI_ARGS only label the attachment.
import { POD_ANNOTATIONS_CAPABILITY, TenantKeys } from "@plasmacloud/proto/annotations";
import type { NovanetNetConf, NovanetTenantIds } from "@plasmacloud/proto/netconf";
import { isRaw, optString, type Raw } from "./fields.js";

export type TenantField = keyof typeof TenantKeys;
export type TenantContext = { [F in TenantField]?: string };
export interface K8sPod { namespace?: string; name?: string; uid?: string; infraContainerId?: string }

/** Each field's key in the config (also under runtimeConfig.novanet and args.cni.novanet) and in CNI_ARGS. */
export const TENANT_SOURCES: Record<TenantField, { conf: keyof NovanetTenantIds; cniArg: string }> = {
  orgId: { conf: "org_id", cniArg: "NOVANET_ORG_ID" },
  projectId: { conf: "project_id", cniArg: "NOVANET_PROJECT_ID" },
  subnetId: { conf: "subnet_id", cniArg: "NOVANET_SUBNET_ID" },
};

type RuntimeConfig = NonNullable<NovanetNetConf["runtimeConfig"]>;
type ArgsConf = NonNullable<NovanetNetConf["args"]>;
type CniArgsConf = NonNullable<ArgsConf["cni"]>;
type Annotations = NonNullable<RuntimeConfig[typeof POD_ANNOTATIONS_CAPABILITY]>;

export function resolveTenant(conf: Raw<NovanetNetConf>, cniArgs: [string, string][]): { tenant: TenantContext; pod: K8sPod } {
  const runtime: Raw<RuntimeConfig> = isRaw<RuntimeConfig>(conf.runtimeConfig) ? conf.runtimeConfig : {};
  const rc: Raw<NovanetTenantIds> = isRaw<NovanetTenantIds>(runtime.novanet) ? runtime.novanet : {};
  const ann: Raw<Annotations> = isRaw<Annotations>(runtime[POD_ANNOTATIONS_CAPABILITY]) ? runtime[POD_ANNOTATIONS_CAPABILITY] : {};
  const cni: Raw<CniArgsConf> = isRaw<ArgsConf>(conf.args) && isRaw<CniArgsConf>(conf.args.cni) ? conf.args.cni : {};
  const args: Raw<NovanetTenantIds> = isRaw<NovanetTenantIds>(cni.novanet) ? cni.novanet : {};
  const env = new Map(cniArgs);
  const tenant: TenantContext = {};
  for (const field of Object.keys(TENANT_SOURCES) as TenantField[]) {
    const { conf: key, cniArg } = TENANT_SOURCES[field];
    tenant[field] = optString(rc, key, "runtimeConfig.novanet.") ?? optString(ann, TenantKeys[field], `runtimeConfig["${POD_ANNOTATIONS_CAPABILITY}"].`)
      ?? optString(args, key, "args.cni.novanet.") ?? (env.get(cniArg) || undefined) ?? optString(conf, key, "config.");
  }
  const pod: K8sPod = {
    namespace: env.get("K8S_POD_NAMESPACE"), name: env.get("K8S_POD_NAME"),
    uid: env.get("K8S_POD_UID"), infraContainerId: env.get("K8S_POD_INFRA_CONTAINER_ID"),
  };
  return { tenant, pod };
}
