// A gRPC proxy on its own unix socket in front of containerd's, for tests that
// must take the runtime's events away from an agent without restarting the
// shared containerd: CRI calls pass through byte for byte; containerd's
// events service can be cut (open subscriptions end, new ones are refused,
// with the code a test picks: Unavailable as a dropped runtime, Unimplemented
// as a runtime without it) and given back.
import { rmSync } from "node:fs";
import { Client, credentials, Metadata, Server, ServerCredentials, status, type ServerUnaryCall, type ServerWritableStream, type ServiceDefinition, type sendUnaryData } from "@grpc/grpc-js";
import { EventsService } from "@plasmacloud/proto/containerd";
import { ImageServiceService, RuntimeServiceService } from "@plasmacloud/proto/cri";

const same = (b: Buffer): Buffer => b;

export interface CriProxy {
  /** unix:///path of the proxy's socket, for the agent's runtime.endpoint. */
  endpoint: string;
  /** Ends the open subscriptions and refuses new ones (and Publish) with `code`. */
  cutEvents(code: status.UNAVAILABLE | status.UNIMPLEMENTED): void;
  allowEvents(): void;
  /** Subscribe calls ever made to the proxy, refused ones included. */
  readonly subscriptions: number;
  close(): Promise<void>;
}

export async function startCriProxy(socketPath: string, upstreamSocket: string): Promise<CriProxy> {
  const upstream = new Client(`unix://${upstreamSocket}`, credentials.createInsecure());
  const server = new Server();
  let cut: status | undefined;
  let subscriptions = 0;
  /** Open subscriptions: the agent's side -> containerd's side. */
  const open = new Map<ServerWritableStream<Buffer, Buffer>, { cancel(): void }>();
  const forwarded = (md: Metadata): Metadata => {
    const out = md.clone();
    out.remove("user-agent");
    return out;
  };
  const refusal = (code: status) => ({ code, details: code === status.UNIMPLEMENTED ? "unknown service containerd.services.events.v1.Events" : "events cut by the test proxy" });

  for (const svc of [RuntimeServiceService, ImageServiceService, EventsService] as ServiceDefinition[]) {
    const raw: Record<string, ServiceDefinition[string]> = {};
    const handlers: Record<string, unknown> = {};
    for (const [name, m] of Object.entries(svc)) {
      raw[name] = { ...m, requestSerialize: same, requestDeserialize: same, responseSerialize: same, responseDeserialize: same };
      const isEvents = svc === (EventsService as ServiceDefinition);
      if (m.responseStream) {
        handlers[name] = (call: ServerWritableStream<Buffer, Buffer>) => {
          subscriptions++;
          if (cut !== undefined) return call.emit("error", refusal(cut));
          const up = upstream.makeServerStreamRequest(m.path, same, same, call.request, forwarded(call.metadata));
          open.set(call, up);
          up.on("data", (b: Buffer) => call.write(b));
          up.on("error", (err) => {
            open.delete(call);
            if (!call.cancelled) call.emit("error", err);
          });
          up.on("end", () => (open.delete(call), call.end()));
          call.on("cancelled", () => (open.delete(call), up.cancel()));
        };
      } else {
        handlers[name] = (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => {
          if (isEvents && cut !== undefined) return cb(refusal(cut));
          upstream.makeUnaryRequest(m.path, same, same, call.request, forwarded(call.metadata), { deadline: call.getDeadline() }, (err, res) => cb(err, res));
        };
      }
    }
    server.addService(raw, handlers as never);
  }
  rmSync(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${socketPath}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));

  return {
    endpoint: `unix://${socketPath}`,
    cutEvents(code) {
      cut = code;
      for (const [call, up] of [...open]) {
        open.delete(call);
        up.cancel();
        call.emit("error", refusal(code));
      }
    },
    allowEvents() {
      cut = undefined;
    },
    get subscriptions() {
      return subscriptions;
    },
    async close() {
      for (const up of open.values()) up.cancel();
      server.forceShutdown();
      upstream.close();
      rmSync(socketPath, { force: true });
    },
  };
}
