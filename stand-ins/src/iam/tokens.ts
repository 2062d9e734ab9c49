// IAM stand-in: bearer tokens mapped to a principal and its tenant, the way
// the real IAM's ValidateToken answers the k8shost server. Shared by every
// stand-in server so one token works across them, as it does on the platform.
import { Metadata, status } from "@grpc/grpc-js";

export type PrincipalKind = "user" | "node";

export interface Principal {
  /** e.g. "user:alice" or "system:node:worker-1" */
  name: string;
  kind: PrincipalKind;
  /** Tenant of a user principal. A node principal serves every tenant bound to it. */
  orgId: string;
  projectId: string;
  /** Set for kind "node": the only node this principal may act for. */
  nodeName?: string;
}

export class AuthError extends Error {
  constructor(readonly code: status.UNAUTHENTICATED | status.PERMISSION_DENIED, message: string) {
    super(message);
  }
}

export class TokenStore {
  private readonly tokens = new Map<string, Principal>();

  add(token: string, principal: Principal): this {
    this.tokens.set(token, principal);
    return this;
  }

  revoke(token: string): void {
    this.tokens.delete(token);
  }

  /** Resolves `authorization: Bearer <token>`; throws AuthError(UNAUTHENTICATED). */
  authenticate(md: Metadata): Principal {
    const raw = md.get("authorization")[0];
    if (typeof raw !== "string" || raw.length === 0) {
      throw new AuthError(status.UNAUTHENTICATED, "missing authorization metadata (expected 'Bearer <token>')");
    }
    const m = /^Bearer\s+(\S+)$/i.exec(raw);
    if (!m) throw new AuthError(status.UNAUTHENTICATED, "authorization metadata is not 'Bearer <token>'");
    const p = this.tokens.get(m[1] as string);
    if (!p) throw new AuthError(status.UNAUTHENTICATED, "invalid or expired token");
    return p;
  }
}

/** Resolves the tenant a request addresses: a user may only name its own. */
export function tenantFor(p: Principal, orgId: string, projectId: string): { orgId: string; projectId: string } {
  if (p.kind === "user") {
    if ((orgId && orgId !== p.orgId) || (projectId && projectId !== p.projectId)) {
      // Another tenant's objects do not exist for this principal.
      return { orgId: "\u0000denied", projectId: "\u0000denied" };
    }
    return { orgId: p.orgId, projectId: p.projectId };
  }
  return { orgId: orgId || p.orgId, projectId: projectId || p.projectId };
}
