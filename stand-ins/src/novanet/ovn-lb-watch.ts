// Services and EndpointSlices from the k8shost control plane over its gRPC
// API, kept as an informer keeps them: a full list (the cache replaced), a
// watch from the list's version, a relist after a lost stream or a too-old
// version (OUT_OF_RANGE) and every resync period. A failing control plane
// keeps the last cache (never read as "no Services"), and is logged once
// when it starts failing and once when it answers again.
//
// One source per bearer token. The control-plane stand-in lets a user see its
// tenant and a node the tenants it hosts, and has no cluster-wide reader, so
// this stand-in watches with one tenant (user) token per tenant; the real
// NovaNET's service controller reads every tenant with its own identity.
import { credentials, Metadata, type ClientReadableStream, type ServiceError } from "@grpc/grpc-js";
import { GrpcCallError, GrpcStatus, unary } from "@plasmacloud/common/grpc";
import { errorMessage } from "@plasmacloud/common/errors";
import type { Logger } from "@plasmacloud/common/log";
import { TokenFile } from "@plasmacloud/common/token";
import {
  EndpointSliceServiceClient, ListEndpointSlicesRequest, ListServicesRequest, ServiceServiceClient, WatchEndpointSlicesRequest,
  WatchEvent_Type, WatchServicesRequest, type EndpointSlice, type EndpointSliceWatchEvent, type ObjectMeta, type Service, type ServiceWatchEvent,
} from "@plasmacloud/proto/k8shost";

const sleep = (ms: number, signal: AbortSignal): Promise<void> => new Promise((resolve) => {
  const done = (): void => { clearTimeout(t); signal.removeEventListener("abort", done); resolve(); };
  const t = setTimeout(done, ms);
  signal.addEventListener("abort", done, { once: true });
});
const keyOf = (m: ObjectMeta): string => `${m.orgId}/${m.projectId}/${m.namespace}/${m.name}`;
const CALL_TIMEOUT_MS = 10_000;

interface Kind<T, E> {
  what: string;
  list(md: Metadata): Promise<{ items: T[]; resourceVersion: string }>;
  watch(resourceVersion: string, md: Metadata): ClientReadableStream<E>;
  unwrap(ev: E): { type: WatchEvent_Type; obj: T | undefined };
}

class Cache<T extends { metadata: ObjectMeta | undefined }, E> {
  readonly items = new Map<string, T>();
  synced = false;
  private failing = false;
  private cancel: (() => void) | undefined;

  constructor(private readonly kind: Kind<T, E>, private readonly md: () => Metadata, private readonly onChange: () => void, private readonly log: Logger, private readonly resyncMs: number) {}

  async run(signal: AbortSignal): Promise<void> {
    let delay = 500;
    while (!signal.aborted) {
      try {
        const res = await this.kind.list(this.md());
        this.items.clear();
        for (const o of res.items) if (o.metadata) this.items.set(keyOf(o.metadata), o);
        this.synced = true;
        if (this.failing) this.log.info({ what: this.kind.what }, "control plane answers again");
        this.failing = false;
        delay = 500;
        this.onChange();
        await this.watch(res.resourceVersion, signal);
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof GrpcCallError && err.grpcCode === GrpcStatus.OUT_OF_RANGE) continue; // compacted: list again at once
        if (!this.failing) this.log.warn({ what: this.kind.what, err: errorMessage(err) }, "listing/watching the control plane failed; retrying with backoff");
        this.failing = true;
        await sleep(delay, signal);
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  stop(): void {
    this.cancel?.();
  }

  /** Resolves when the stream ends or the resync period is over; rejects on a stream error. */
  private watch(rv: string, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const stream = this.kind.watch(rv, this.md());
      let done = false;
      const finish = (err?: unknown): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        stream.removeAllListeners();
        stream.on("error", () => undefined); // the cancel's own error
        stream.cancel();
        if (err) reject(err);
        else resolve();
      };
      const onAbort = (): void => finish();
      signal.addEventListener("abort", onAbort, { once: true });
      this.cancel = onAbort;
      const timer = setTimeout(() => finish(), this.resyncMs);
      stream.on("data", (ev: E) => {
        const { type, obj } = this.kind.unwrap(ev);
        if (type === WatchEvent_Type.BOOKMARK || !obj?.metadata) return;
        if (type === WatchEvent_Type.DELETED) this.items.delete(keyOf(obj.metadata));
        else this.items.set(keyOf(obj.metadata), obj);
        this.onChange();
      });
      stream.on("error", (e: ServiceError) => finish(new GrpcCallError(`Watch ${this.kind.what}`, e.code, e.details || e.message)));
      stream.on("end", () => finish());
    });
  }
}

export interface SourceOptions {
  /** The control plane's host:port (plaintext, as the stand-in serves it). */
  address: string;
  /** A file holding the bearer token (re-read when it changes; never logged). */
  tokenFile: string;
  resyncMs: number;
  onChange(): void;
  log: Logger;
}

/** One token's view: its Services and EndpointSlices. */
export class ControlPlaneSource {
  readonly services: Cache<Service, ServiceWatchEvent>;
  readonly slices: Cache<EndpointSlice, EndpointSliceWatchEvent>;
  private readonly svcClient: ServiceServiceClient;
  private readonly sliceClient: EndpointSliceServiceClient;
  private readonly stopped = new AbortController();
  private running: Promise<unknown> | undefined;

  constructor(o: SourceOptions) {
    const token = new TokenFile(o.tokenFile);
    const md = (): Metadata => {
      const m = new Metadata();
      m.set("authorization", `Bearer ${token.get()}`);
      return m;
    };
    const opts = { "grpc.initial_reconnect_backoff_ms": 500, "grpc.max_reconnect_backoff_ms": 5_000 };
    this.svcClient = new ServiceServiceClient(o.address, credentials.createInsecure(), opts);
    this.sliceClient = new EndpointSliceServiceClient(o.address, credentials.createInsecure(), { ...opts, channelOverride: this.svcClient.getChannel() });
    const log = o.log.child({ tokenFile: o.tokenFile });
    const svc = this.svcClient;
    const sl = this.sliceClient;
    this.services = new Cache<Service, ServiceWatchEvent>({
      what: "services",
      list: (m) => unary(svc, "ListServices", svc.listServices, ListServicesRequest.fromPartial({}), { metadata: m, timeoutMs: CALL_TIMEOUT_MS }),
      watch: (resourceVersion, m) => svc.watchServices(WatchServicesRequest.fromPartial({ resourceVersion }), m),
      unwrap: (ev) => ({ type: ev.type, obj: ev.service }),
    }, md, o.onChange, log, o.resyncMs);
    this.slices = new Cache<EndpointSlice, EndpointSliceWatchEvent>({
      what: "endpoint slices",
      list: (m) => unary(sl, "ListEndpointSlices", sl.listEndpointSlices, ListEndpointSlicesRequest.fromPartial({}), { metadata: m, timeoutMs: CALL_TIMEOUT_MS }),
      watch: (resourceVersion, m) => sl.watchEndpointSlices(WatchEndpointSlicesRequest.fromPartial({ resourceVersion }), m),
      unwrap: (ev) => ({ type: ev.type, obj: ev.endpointSlice }),
    }, md, o.onChange, log, o.resyncMs);
  }

  get synced(): boolean {
    return this.services.synced && this.slices.synced;
  }

  start(): void {
    const s = this.stopped.signal;
    this.running = Promise.all([this.services.run(s), this.slices.run(s)]);
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    this.services.stop();
    this.slices.stop();
    await this.running;
    this.svcClient.close();
  }
}
