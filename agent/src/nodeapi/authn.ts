// Authentication of node API callers, as the kubelet's webhook token
// authenticator: the bearer token goes to the control plane's TokenReview
// (AuthService.ReviewToken) and the answer is cached for a while, keyed by the
// token's SHA-256 so no token is kept. Never anonymous: no token, a malformed
// header or a rejected token is 401. A review that cannot be made (control
// plane down) is 503, not cached: the caller is not known to be wrong.
import { createHash } from "node:crypto";
import { credentials } from "@grpc/grpc-js";
import { errorMessage } from "@plasmacloud/common/errors";
import { AuthServiceClient, ReviewTokenRequest, type ReviewTokenResponse } from "@plasmacloud/proto/k8shost";
import type { ControlPlane } from "../controlplane/client";

export interface Caller {
  principal: string;
  orgId: string;
  projectId: string;
}

export type AuthResult = { ok: true; caller: Caller } | { ok: false; code: "Unauthenticated" | "Unavailable"; message: string };

export type ReviewFn = (token: string) => Promise<ReviewTokenResponse>;

/** The control plane's TokenReview, on the agent's own channel and node credentials. */
export function controlPlaneReview(cp: ControlPlane): ReviewFn {
  // channelOverride: the credentials argument is unused, the shared channel carries the node's.
  const client = new AuthServiceClient("unused", credentials.createInsecure(), { channelOverride: cp.pods.getChannel() });
  return (token) => cp.call("ReviewToken", client.reviewToken.bind(client), ReviewTokenRequest.fromPartial({ token }));
}

const UNAUTHORIZED: AuthResult = { ok: false, code: "Unauthenticated", message: "Unauthorized" };

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return m?.[1];
}

interface Entry {
  result: AuthResult;
  expires: number;
}

export class Authenticator {
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<AuthResult>>();

  /** ttlMs 0 = no cache. maxEntries bounds the memory a flood of made-up tokens can take. */
  constructor(private readonly review: ReviewFn, private readonly ttlMs: number, private readonly maxEntries = 4096, private readonly now: () => number = Date.now) {}

  async authenticate(authorization: string | undefined): Promise<AuthResult> {
    const token = bearerToken(authorization);
    if (!token) return UNAUTHORIZED;
    const key = createHash("sha256").update(token).digest("hex");
    const hit = this.cache.get(key);
    if (hit && hit.expires > this.now()) return hit.result;
    if (hit) this.cache.delete(key);
    // Concurrent requests with one token share one review.
    let p = this.inflight.get(key);
    if (!p) {
      p = this.ask(token, key).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  private async ask(token: string, key: string): Promise<AuthResult> {
    let res: ReviewTokenResponse;
    try {
      res = await this.review(token);
    } catch (err) {
      return { ok: false, code: "Unavailable", message: `cannot authenticate the request now: token review failed: ${errorMessage(err)}` };
    }
    const result: AuthResult = res.authenticated && res.principal ? { ok: true, caller: { principal: res.principal, orgId: res.orgId, projectId: res.projectId } } : UNAUTHORIZED;
    if (this.ttlMs > 0) {
      // Both answers are kept for the same time, as the kubelet's cache does.
      this.cache.set(key, { result, expires: this.now() + this.ttlMs });
      while (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    }
    return result;
  }
}
