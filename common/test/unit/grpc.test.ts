import { test } from "node:test";
import assert from "node:assert/strict";
import { codeFromGrpc, GrpcCallError, GrpcStatus, grpcCodeOf, unary, type UnaryFn } from "../../src/grpc";

test("one map from gRPC status to error code: the codes callers react to", () => {
  assert.equal(codeFromGrpc(GrpcStatus.NOT_FOUND), "NotFound");
  assert.equal(codeFromGrpc(GrpcStatus.ALREADY_EXISTS), "Conflict");
  assert.equal(codeFromGrpc(GrpcStatus.ABORTED), "Conflict");
  assert.equal(codeFromGrpc(GrpcStatus.FAILED_PRECONDITION), "Conflict");
  assert.equal(codeFromGrpc(GrpcStatus.UNAVAILABLE), "Unavailable");
  assert.equal(codeFromGrpc(GrpcStatus.UNAUTHENTICATED), "Unauthenticated");
  assert.equal(codeFromGrpc(GrpcStatus.OUT_OF_RANGE), "OutOfRange");
  assert.equal(codeFromGrpc(GrpcStatus.RESOURCE_EXHAUSTED), "ResourceExhausted");
  assert.equal(codeFromGrpc(GrpcStatus.DATA_LOSS), "Internal");
  assert.equal(codeFromGrpc(999), "Internal");
});

test("unary: calls the method on its client with metadata and a deadline, resolves its answer", async () => {
  const seen: { self?: unknown; md?: string; deadline?: Date } = {};
  const client = {
    echo(this: unknown, req: string, md: string, opts: { deadline: Date }, cb: (e: null, r: string) => void) {
      Object.assign(seen, { self: this, md, deadline: opts.deadline });
      cb(null, req.toUpperCase());
    },
  };
  const before = Date.now();
  const res = await unary(client, "Echo", client.echo as UnaryFn<string, string, string>, "hi", { metadata: "md", timeoutMs: 5000 });
  assert.equal(res, "HI");
  assert.equal(seen.self, client);
  assert.equal(seen.md, "md");
  assert.ok(seen.deadline!.getTime() >= before + 5000 && seen.deadline!.getTime() <= Date.now() + 5000);
});

test("unary: a failure becomes GrpcCallError with the mapped code, the gRPC status and context", async () => {
  const fn: UnaryFn<string, string, null> = (_r, _m, _o, cb) => cb({ code: GrpcStatus.ABORTED, details: "volume busy", message: "10 ABORTED: volume busy" }, "");
  const err = await unary({}, "NodeStageVolume", fn, "x", { metadata: null, timeoutMs: 10, context: { endpoint: "/csi.sock" } }).catch((e: unknown) => e);
  assert.ok(err instanceof GrpcCallError);
  assert.equal(err.code, "Conflict");
  assert.equal(grpcCodeOf(err), GrpcStatus.ABORTED);
  assert.equal(err.message, "NodeStageVolume: volume busy");
  assert.equal(err.context.endpoint, "/csi.sock");
  assert.equal(grpcCodeOf(new Error("x")), undefined);
});
