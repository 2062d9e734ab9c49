// The tenant check at NodeStage/NodePublish: the node agent names the pod's
// tenant in volume_context; the volume's own org/project (from LightningStor)
// must match it. A mismatch is NOT_FOUND, not PERMISSION_DENIED: across
// tenants a volume does not exist (LightningStor's and k8shost's rule), and the
// message reaches the other tenant's pod status, where PERMISSION_DENIED would
// confirm that the volume id exists.
import { status } from "@grpc/grpc-js";
import { TenantKeys } from "@plasmacloud/proto/annotations";
import { CsiError } from "../errors";
import type { VolumeBackend } from "../lightningstor/client";

/** Throws NOT_FOUND unless the volume belongs to the tenant named in volume_context (when one is named). */
export async function checkTenant(backend: VolumeBackend, volumeId: string, ctx: Record<string, string>): Promise<void> {
  const org = ctx[TenantKeys.orgId];
  const project = ctx[TenantKeys.projectId];
  if (org === undefined && project === undefined) return; // no tenant named: the single-tenant contract as before
  const v = await backend.getVolume(volumeId); // NOT_FOUND already when the volume is outside this driver's tenant
  if (v.orgId !== (org ?? "") || v.projectId !== (project ?? "")) {
    throw new CsiError(status.NOT_FOUND, `volume ${JSON.stringify(volumeId)} not found for tenant ${org ?? ""}/${project ?? ""}`, { volumeId });
  }
}
