// What the endpoints controller wants for one Service (pure): the EndpointSlice
// controller's rules. Every pod of the Service's tenant and namespace that the
// selector matches, has an IP and has not finished is an endpoint: ready when
// the pod's Ready condition is True and it is not terminating, serving when
// Ready, terminating once it has a deletion timestamp. Target ports are
// resolved per pod (a named one against its containers' ports of the same
// protocol; a pod without that port name is no endpoint for it), and pods
// that resolve them alike share a slice. A Service whose pods are all gone
// keeps one empty slice (the controller's placeholder).
import { createHash } from "node:crypto";
import type { Endpoint, EndpointPort, EndpointSlice, Pod, Service } from "@plasmacloud/proto/k8shost";

export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
export const MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";
export const CONTROLLER_NAME = "endpointslice-controller.k8s.io";

const hash = (s: string): string => createHash("sha256").update(s).digest("hex").slice(0, 5);

export function selects(svc: Service, pod: Pod): boolean {
  const sel = svc.spec?.selector ?? {};
  const sm = svc.metadata!;
  const pm = pod.metadata!;
  if (Object.keys(sel).length === 0) return false;
  if (pm.orgId !== sm.orgId || pm.projectId !== sm.projectId || pm.namespace !== sm.namespace) return false;
  return Object.entries(sel).every(([k, v]) => pm.labels[k] === v);
}

export const podReady = (pod: Pod): boolean => pod.status?.conditions.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/** A Service's target port on one pod: a number as is, a name by the pod's container ports (findPort). */
export function resolvePort(pod: Pod, targetPort: string, protocol: string): number | undefined {
  if (/^\d+$/.test(targetPort)) return Number(targetPort);
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports) if (p.name === targetPort && (p.protocol || "TCP") === protocol) return p.containerPort;
  }
  return undefined;
}

function endpointOf(svc: Service, pod: Pod): Endpoint {
  const ready = podReady(pod);
  const terminating = !!pod.metadata!.deletionTimestamp;
  const m = pod.metadata!;
  return {
    addresses: [pod.status!.podIp],
    conditions: { ready: ready && !terminating, serving: ready, terminating },
    hostname: pod.spec?.hostname && pod.spec.subdomain === svc.metadata!.name ? pod.spec.hostname : "",
    targetRef: { kind: "Pod", namespace: m.namespace, name: m.name, uid: m.uid, fieldPath: "" },
    nodeName: pod.spec?.nodeName ?? "",
  };
}

/** The slices the controller keeps for `svc` (none for a Service without a selector). */
export function desiredSlices(svc: Service, pods: Iterable<Pod>): EndpointSlice[] {
  const sm = svc.metadata!;
  if (Object.keys(svc.spec?.selector ?? {}).length === 0) return [];
  const groups = new Map<string, { ports: EndpointPort[]; endpoints: { name: string; ep: Endpoint }[] }>();
  for (const pod of pods) {
    const phase = pod.status?.phase;
    if (!selects(svc, pod) || !pod.status?.podIp || phase === "Succeeded" || phase === "Failed") continue;
    const ports: EndpointPort[] = [];
    for (const sp of svc.spec!.ports) {
      const port = resolvePort(pod, sp.targetPort || String(sp.port), sp.protocol || "TCP");
      if (port !== undefined) ports.push({ name: sp.name, protocol: sp.protocol || "TCP", port });
    }
    const key = JSON.stringify(ports);
    const g = groups.get(key) ?? { ports, endpoints: [] };
    g.endpoints.push({ name: pod.metadata!.name, ep: endpointOf(svc, pod) });
    groups.set(key, g);
  }
  if (groups.size === 0) groups.set("[]", { ports: [], endpoints: [] });
  return [...groups.entries()].map(([key, g]) => ({
    metadata: {
      name: `${sm.name}-${hash(key)}`,
      namespace: sm.namespace,
      uid: "",
      orgId: sm.orgId,
      projectId: sm.projectId,
      labels: { ...sm.labels, [SERVICE_NAME_LABEL]: sm.name, [MANAGED_BY_LABEL]: CONTROLLER_NAME },
      annotations: {},
      resourceVersion: "",
      creationTimestamp: undefined,
      deletionTimestamp: undefined,
      generation: 1n,
    },
    addressType: "IPv4",
    endpoints: g.endpoints.sort((a, b) => a.name.localeCompare(b.name)).map((e) => e.ep),
    ports: g.ports,
  }));
}

/** Same content (endpoints, ports, labels), whatever the metadata's versions. */
export function sameSlice(a: EndpointSlice, b: EndpointSlice): boolean {
  const body = (s: EndpointSlice): string => JSON.stringify([s.addressType, s.endpoints, s.ports, Object.entries(s.metadata!.labels).sort()]);
  return body(a) === body(b);
}
