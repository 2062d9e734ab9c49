// The runtime's own change events, for the relist (pods/pleg.ts): containerd
// 1.6 has no CRI GetContainerEvents (the kubelet's evented PLEG), but it
// publishes its task and container events on the same socket
// (containerd.services.events.v1.Events/Subscribe). An event is only a
// trigger: what changed is read by the next relist, as CRI reports it.
import { randomBytes } from "node:crypto";
import { Metadata, credentials, type ChannelInterface } from "@grpc/grpc-js";
import { CodedError } from "@plasmacloud/common/errors";
import { GrpcCallError, GrpcStatus, unary, type ServiceErrorLike } from "@plasmacloud/common/grpc";
import { EventsClient, PublishRequest, SubscribeRequest, TaskExit, type Envelope } from "@plasmacloud/proto/containerd";
import type { RuntimeChange } from "./types";

/** The containerd namespace of the CRI plugin's containers (fixed in containerd 1.6). */
const CRI_NAMESPACE = "k8s.io";
/**
 * What a relist can see change: a container's or sandbox's task created,
 * started, exited, deleted, OOM-killed; a container created or removed.
 * Exec'd processes (/tasks/exec-*) are no change; their /tasks/exit is
 * dropped below by its process id.
 */
const TOPICS = "^/(tasks/(create|start|exit|delete|oom)|containers/(create|delete))$";
/** Where the subscription's own check event goes: a namespace of ours, seen by no CRI consumer. */
const CHECK_NAMESPACE = "k8shost-agent";
/** A subscription that has not delivered its check event by then is not working. */
const CHECK_DEADLINE_MS = 10_000;

export class ContainerdEvents {
  private readonly client: EventsClient;

  /** `channel`: the CRI client's, so the events share its connection to the socket. */
  constructor(endpoint: string, channel?: ChannelInterface) {
    // Never closed on its own: the channel is the CRI client's, closed with it.
    this.client = new EventsClient(endpoint, credentials.createInsecure(), channel ? { channelOverride: channel } : {});
  }

  /**
   * One subscription: reports {kind: "up"} once it is known to deliver (its own
   * check event came back: containerd sends nothing, not even headers, until
   * the first event), then each change. Resolves when `signal` aborts; rejects
   * when the subscription fails or drops (code Unimplemented: the runtime has
   * no containerd events service).
   */
  watch(signal: AbortSignal, onChange: (c: RuntimeChange) => void): Promise<void> {
    const check = `/k8shost-agent/check-${randomBytes(6).toString("hex")}`;
    const filters = [`namespace==${JSON.stringify(CRI_NAMESPACE)},topic~=${JSON.stringify(TOPICS)}`, `namespace==${JSON.stringify(CHECK_NAMESPACE)},topic==${JSON.stringify(check)}`];
    return new Promise<void>((resolve, reject) => {
      let up = false;
      let settled = false;
      const call = this.client.subscribe(SubscribeRequest.fromPartial({ filters }));
      const finish = (err?: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        signal.removeEventListener("abort", onAbort);
        call.cancel();
        if (err === undefined) resolve();
        else reject(err);
      };
      const onAbort = (): void => finish();
      signal.addEventListener("abort", onAbort, { once: true });
      const deadline = setTimeout(() => finish(new CodedError("Unavailable", `containerd events: the subscription delivered no check event within ${CHECK_DEADLINE_MS / 1000}s`)), CHECK_DEADLINE_MS);
      call.on("data", (env: Envelope) => {
        if (env.namespace === CHECK_NAMESPACE) {
          if (!up) {
            up = true;
            clearTimeout(deadline);
            onChange({ kind: "up" });
          }
          return;
        }
        const change = changeOf(env);
        if (change && up) onChange(change);
      });
      call.on("error", (err: ServiceErrorLike) => {
        const code = typeof err.code === "number" ? err.code : GrpcStatus.UNKNOWN;
        finish(code === GrpcStatus.CANCELLED && signal.aborted ? undefined : new GrpcCallError("containerd events Subscribe", code, err.details || err.message));
      });
      call.on("end", () => finish(signal.aborted ? undefined : new CodedError("Unavailable", "containerd events: the subscription ended")));
      void this.publishChecks(check, () => up || settled).catch((err: unknown) => finish(err));
    });
  }

  /**
   * Publishes the check event until the subscription shows it (the Subscribe
   * may reach containerd after the first Publish: retried, a few at most).
   */
  private async publishChecks(topic: string, done: () => boolean): Promise<void> {
    const md = new Metadata();
    md.set("containerd-namespace", CHECK_NAMESPACE);
    // google.protobuf.Empty: any payload will do, containerd passes it along as is.
    const req = PublishRequest.fromPartial({ topic, event: { typeUrl: "types.googleapis.com/google.protobuf.Empty", value: Buffer.alloc(0) } });
    for (let waitMs = 20; !done(); waitMs = Math.min(waitMs * 2, 1000)) {
      await unary(this.client, "containerd events Publish", this.client.publish.bind(this.client), req, { metadata: md, timeoutMs: 5000 });
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }
}

/** The change an event reports; undefined for an exec'd process's exit (a probe's, a hook's). */
export function changeOf(env: Envelope): RuntimeChange | undefined {
  const createdAt = env.timestamp ? env.timestamp.getTime() : Date.now();
  if (env.topic !== "/tasks/exit") return { kind: "change", id: "", exit: false, createdAt };
  const ex = TaskExit.decode(env.event?.value ?? new Uint8Array());
  if (ex.id && ex.id !== ex.containerId) return undefined;
  return { kind: "change", id: ex.containerId, exit: true, createdAt };
}
