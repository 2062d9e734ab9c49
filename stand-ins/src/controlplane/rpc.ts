// Shared handler plumbing: authenticate every call, map errors to status codes.
import { status, type sendUnaryData, type ServerUnaryCall } from "@grpc/grpc-js";
import { AuthError, type Principal, type TokenStore } from "../iam/tokens";
import { ApiError } from "./authz";

export function unary<Req, Res>(tokens: TokenStore, fn: (req: Req, who: Principal) => Res) {
  return (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>): void => {
    try {
      cb(null, fn(call.request, tokens.authenticate(call.metadata)));
    } catch (err) {
      cb(toStatus(err));
    }
  };
}

export function toStatus(err: unknown): { code: status; details: string } {
  if (err instanceof ApiError || err instanceof AuthError) return { code: err.code, details: err.message };
  return { code: status.INTERNAL, details: err instanceof Error ? err.message : String(err) };
}
