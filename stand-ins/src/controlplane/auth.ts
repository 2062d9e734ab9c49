// AuthService of the stand-in: the platform's TokenReview. A node asks who holds
// a bearer token a client presented to the node's own API (k8shost-agent's, as
// the kubelet's webhook authenticator asks the API server). Only nodes may ask
// (the API server lets only those granted tokenreviews/create: here, nodes).
// The answer for a bad token is authenticated=false, never an RPC error, and
// never repeats the token.
import { Metadata, status } from "@grpc/grpc-js";
import type { AuthServiceServer, ReviewTokenRequest, ReviewTokenResponse } from "@plasmacloud/proto/k8shost";
import { AuthError, type TokenStore } from "../iam/tokens";
import { ApiError } from "./authz";
import { unary } from "./rpc";

export function authService(tokens: TokenStore): AuthServiceServer {
  return {
    reviewToken: unary(tokens, (req: ReviewTokenRequest, who): ReviewTokenResponse => {
      if (who.kind !== "node") throw new ApiError(status.PERMISSION_DENIED, `${who.name} may not review tokens`);
      const denied = (error: string): ReviewTokenResponse => ({ authenticated: false, principal: "", orgId: "", projectId: "", error });
      if (!req.token) return denied("no token");
      // The IAM stand-in resolves bearer metadata; a review asks the same question of the token alone.
      const md = new Metadata();
      md.set("authorization", `Bearer ${req.token}`);
      try {
        const p = tokens.authenticate(md);
        // A node principal has no tenant of its own: it answers with none.
        return p.kind === "user"
          ? { authenticated: true, principal: p.name, orgId: p.orgId, projectId: p.projectId, error: "" }
          : { authenticated: true, principal: p.name, orgId: "", projectId: "", error: "" };
      } catch (err) {
        if (err instanceof AuthError) return denied(err.message);
        throw err;
      }
    }),
  };
}
