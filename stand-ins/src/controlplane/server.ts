// Starts the control-plane stand-in: Pod, Node, ConfigMap, Secret, Event and Auth services
// over gRPC on one port, plus a scheduler that binds unscheduled pods to a
// Ready node (fewest pods first), as the real k8shost scheduler would.
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { AuthServiceService, ConfigMapServiceService, EndpointSliceServiceService, EventServiceService, NodeServiceService, PodServiceService, SecretServiceService, ServiceServiceService, WatchEvent_Type, type Pod } from "@plasmacloud/proto/k8shost";
import type { TokenStore } from "../iam/tokens";
import { authService } from "./auth";
import { endpointSliceService } from "./endpoints";
import { startEndpointsController } from "./endpoints-controller";
import { eventService, eventsOf, nodeRegistrations, recordScheduled } from "./events";
import type { EventStore, EventStoreOptions } from "./events-store";
import { nodeService } from "./nodes";
import { configMapService, secretService } from "./objects";
import { podService } from "./pods";
import { serviceService } from "./services";
import { Store } from "./store";

export interface ControlPlaneStandIn {
  address: string;
  store: Store;
  events: EventStore;
  stop(): Promise<void>;
}

export function schedule(store: Store, onBound: (p: Pod) => void = () => undefined): void {
  const ready = [...store.nodes.values()].filter((n) => !n.spec?.unschedulable && n.status?.conditions.some((c) => c.type === "Ready" && c.status === "True"));
  if (ready.length === 0) return;
  const load = new Map(ready.map((n) => [n.metadata!.name, 0]));
  for (const p of store.pods.values()) if (p.spec?.nodeName && load.has(p.spec.nodeName)) load.set(p.spec.nodeName, load.get(p.spec.nodeName)! + 1);
  for (const p of [...store.pods.values()].sort((a, b) => Number(a.metadata!.resourceVersion) - Number(b.metadata!.resourceVersion))) {
    if (p.spec?.nodeName || p.metadata?.deletionTimestamp) continue;
    const [name] = [...load.entries()].sort((a, b) => a[1] - b[1])[0]!;
    const bound = structuredClone(p);
    bound.spec!.nodeName = name;
    onBound(store.putPod(bound, WatchEvent_Type.MODIFIED));
    load.set(name, load.get(name)! + 1);
  }
}

/** `store` lets a test restart the server on the same port with the same objects. */
export async function startControlPlaneStandIn(opts: { tokens: TokenStore; address?: string; historyLimit?: number; store?: Store; events?: EventStoreOptions; serviceCIDR?: string }): Promise<ControlPlaneStandIn> {
  const store = opts.store ?? new Store(opts.historyLimit);
  const server = new Server();
  const events = eventsOf(store, opts.events);
  const sched = (): void => schedule(store, (p) => recordScheduled(events, store, p));
  const registered = nodeRegistrations(events, store);
  server.addService(PodServiceService, podService(store, opts.tokens, sched));
  server.addService(NodeServiceService, nodeService(store, opts.tokens, () => (registered(), sched())));
  server.addService(EventServiceService, eventService(store, events, opts.tokens));
  server.addService(ConfigMapServiceService, configMapService(store, opts.tokens));
  server.addService(SecretServiceService, secretService(store, opts.tokens));
  server.addService(AuthServiceService, authService(opts.tokens));
  // Services with cluster IPs (10.96.0.0/16 unless told) and the endpoints controller keeping their slices.
  const endpoints = startEndpointsController(store);
  server.addService(ServiceServiceService, serviceService(store, opts.tokens, opts.serviceCIDR));
  server.addService(EndpointSliceServiceService, endpointSliceService(store, opts.tokens, endpoints));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(opts.address ?? "127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const host = (opts.address ?? "127.0.0.1:0").replace(/:\d+$/, "");
  return {
    address: `${host}:${port}`,
    store,
    events,
    stop: () =>
      new Promise<void>((resolve) => {
        endpoints.stop();
        server.tryShutdown(() => resolve());
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1000).unref();
      }),
  };
}
