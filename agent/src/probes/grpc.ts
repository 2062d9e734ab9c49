// The kubelet's gRPC probe: grpc.health.v1.Health/Check on the pod IP, a new
// plaintext connection each time, connect and call within the timeout;
// SERVING is a success, any other answer or error a failure. The two health
// messages are one string and one enum: encoded here by hand rather than
// generated.
import { Client, credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { AGENT_VERSION } from "../node/controller";
import type { ProbeOutcome } from "./spec";

const METHOD = "/grpc.health.v1.Health/Check";
const STATUS_NAMES = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"];
const [MAJOR, MINOR] = AGENT_VERSION.split(".");

/** HealthCheckRequest { string service = 1; } */
export function encodeHealthRequest(service: string): Buffer {
  if (!service) return Buffer.alloc(0);
  const s = Buffer.from(service, "utf8");
  return Buffer.concat([Buffer.from([0x0a]), varint(s.length), s]);
}

/** HealthCheckResponse { ServingStatus status = 1; }: the status number, unknown fields skipped. */
export function decodeHealthResponse(b: Buffer): number {
  let i = 0;
  let result = 0;
  const read = (): number => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      if (i >= b.length) throw new Error("truncated varint");
      const byte = b[i++]!;
      v += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return v;
    }
  };
  while (i < b.length) {
    const tag = read();
    const wire = tag & 7;
    if (wire === 0) {
      const v = read();
      if (tag >>> 3 === 1) result = v;
    } else if (wire === 2) i += read();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return result;
}

/** An encoded base-128 varint. */
export function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

export function grpcHealth(host: string, port: number, service: string, timeoutMs: number): Promise<ProbeOutcome> {
  const addr = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  const secs = `${timeoutMs / 1000}s`;
  const client = new Client(addr, credentials.createInsecure(), {
    "grpc.primary_user_agent": `kube-probe/${MAJOR}.${MINOR}`,
    // Its own connection, gone with close(): never a channel shared with another probe.
    "grpc.use_local_subchannel_pool": 1,
    "grpc.enable_retries": 0,
  });
  const deadline = Date.now() + timeoutMs;
  return new Promise<ProbeOutcome>((resolve) => {
    client.waitForReady(deadline, (err) => {
      if (err) return resolve({ result: "failure", output: `timeout: failed to connect service "${addr}" within ${secs}: ${err.message}` });
      const call = (e: ServiceError | null, code?: number): void => {
        if (e) {
          if (e.code === status.UNIMPLEMENTED) return resolve({ result: "failure", output: `error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${e.details}` });
          if (e.code === status.DEADLINE_EXCEEDED) return resolve({ result: "failure", output: `timeout: health rpc did not complete within ${secs}` });
          return resolve({ result: "failure", output: `error: health rpc probe failed: ${e.message}` });
        }
        if (code !== 1) return resolve({ result: "failure", output: `service unhealthy (responded with "${STATUS_NAMES[code ?? 0] ?? String(code)}")` });
        resolve({ result: "success", output: "service healthy" });
      };
      client.makeUnaryRequest(METHOD, (s: string) => encodeHealthRequest(s), decodeHealthResponse, service, new Metadata(), { deadline }, (e, code) => call(e, code));
    });
  }).finally(() => client.close());
}
