// Who may touch what. Users are confined to their tenant. A node principal
// acts for one node: it sees the pods bound to it across tenants and may read
// only the secrets/config maps those pods reference, by volume, pull secret,
// env or envFrom, in any container (the Kubernetes node authorizer's rule).
// Other tenants' objects read as NotFound, never Denied.
import { status } from "@grpc/grpc-js";
import type { Container, Pod } from "@plasmacloud/proto/k8shost";
import type { Principal } from "../iam/tokens";

export class ApiError extends Error {
  constructor(readonly code: status, message: string) {
    super(message);
  }
}

export const notFound = (what: string): ApiError => new ApiError(status.NOT_FOUND, `${what} not found`);
export const invalid = (field: string, msg: string): ApiError => new ApiError(status.INVALID_ARGUMENT, `${field}: ${msg}`);

/** The tenant a request may address, given the ids it names (empty = the token's). */
export function tenantOf(p: Principal, orgId: string, projectId: string): { orgId: string; projectId: string } {
  if (p.kind === "node") {
    if (!orgId || !projectId) throw invalid("ref.org_id/project_id", "a node must name the tenant of the object");
    return { orgId, projectId };
  }
  if ((orgId && orgId !== p.orgId) || (projectId && projectId !== p.projectId)) throw notFound("object");
  return { orgId: p.orgId, projectId: p.projectId };
}

export function requireUser(p: Principal, action: string): void {
  if (p.kind !== "user") throw new ApiError(status.PERMISSION_DENIED, `${p.name} may not ${action}`);
}

/** A node may act on a pod only while the pod is bound to it. */
export function checkPodAccess(p: Principal, pod: Pod | undefined, what: string): Pod {
  if (!pod) throw notFound(what);
  if (p.kind === "node" && pod.spec?.nodeName !== p.nodeName) throw notFound(what);
  return pod;
}

export function checkNodeName(p: Principal, name: string): void {
  if (p.kind === "node" && p.nodeName !== name) throw new ApiError(status.PERMISSION_DENIED, `${p.name} may only act for node ${p.nodeName}`);
}

/** Does any pod bound to `node` in this tenant/namespace reference the object? */
export function referencedByNodePod(pods: Iterable<Pod>, node: string, orgId: string, projectId: string, ns: string, kind: "secret" | "configMap", name: string): boolean {
  for (const pod of pods) {
    const m = pod.metadata!;
    if (pod.spec?.nodeName !== node || m.orgId !== orgId || m.projectId !== projectId || m.namespace !== ns) continue;
    const s = pod.spec;
    if (kind === "secret" && s.imagePullSecrets.some((r) => r.name === name)) return true;
    for (const v of s.volumes) {
      if (kind === "secret" && (v.secret?.secretName === name || v.csi?.nodePublishSecretRef?.name === name)) return true;
      if (kind === "configMap" && v.configMap?.name === name) return true;
    }
    if ([...s.containers, ...s.initContainers].some((c) => envNames(c, kind).includes(name))) return true;
  }
  return false;
}

/** The objects a container's env and envFrom name (VisitPodSecretNames / VisitPodConfigmapNames). */
function envNames(c: Container, kind: "secret" | "configMap"): string[] {
  const out: string[] = [];
  for (const f of c.envFrom) {
    const ref = kind === "secret" ? f.secretRef : f.configMapRef;
    if (ref) out.push(ref.name);
  }
  for (const e of c.env) {
    const ref = kind === "secret" ? e.valueFrom?.secretKeyRef : e.valueFrom?.configMapKeyRef;
    if (ref) out.push(ref.name);
  }
  return out;
}
