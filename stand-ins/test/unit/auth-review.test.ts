// The stand-in's AuthService.ReviewToken (the platform's TokenReview): only a
// node may ask; the answer names the principal and its tenant, or says no
// without repeating the token.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials } from "@grpc/grpc-js";
import { errorCode } from "@plasmacloud/common/errors";
import { AuthServiceClient, ReviewTokenRequest } from "@plasmacloud/proto/k8shost";
import { ControlPlane } from "../../../agent/src/controlplane/client";
import { TokenStore } from "../../src/iam/tokens";
import { startControlPlaneStandIn } from "../../src/controlplane/server";

test("ReviewToken: a node learns who holds a token; users and strangers may not ask", async () => {
  const tokens = new TokenStore()
    .add("alice-token", { name: "user:alice", kind: "user", orgId: "o1", projectId: "p1" })
    .add("node-token", { name: "system:node:n1", kind: "node", orgId: "", projectId: "", nodeName: "n1" });
  const cp = await startControlPlaneStandIn({ tokens });
  const dir = mkdtempSync(join(tmpdir(), "review-"));
  const as = (token: string): { c: ControlPlane; review: (t: string) => Promise<unknown> } => {
    writeFileSync(join(dir, token), token);
    const c = new ControlPlane(cp.address, join(dir, token), "", 5000);
    const auth = new AuthServiceClient(cp.address, credentials.createInsecure(), { channelOverride: c.pods.getChannel() });
    return { c, review: (t) => c.call("ReviewToken", auth.reviewToken.bind(auth), ReviewTokenRequest.fromPartial({ token: t })) };
  };
  const node = as("node-token");
  const user = as("alice-token");
  const stranger = as("who-knows");
  try {
    assert.deepEqual(await node.review("alice-token"), { authenticated: true, principal: "user:alice", orgId: "o1", projectId: "p1", error: "" });
    assert.deepEqual(await node.review("node-token"), { authenticated: true, principal: "system:node:n1", orgId: "", projectId: "", error: "" }, "a node has no tenant");
    const bad = (await node.review("forged-token")) as { authenticated: boolean; error: string };
    assert.equal(bad.authenticated, false);
    assert.ok(bad.error && !bad.error.includes("forged-token"), bad.error);
    assert.equal(((await node.review("")) as { authenticated: boolean }).authenticated, false);
    assert.equal(await user.review("alice-token").then(() => "ok", errorCode), "PermissionDenied");
    assert.equal(await stranger.review("alice-token").then(() => "ok", errorCode), "Unauthenticated");
  } finally {
    for (const x of [node, user, stranger]) x.c.close();
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
