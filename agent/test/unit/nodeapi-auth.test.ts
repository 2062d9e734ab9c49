// Who the node API lets in, and to what: bearer tokens reviewed by the control
// plane and cached (as the kubelet's webhook authenticator), and a pod reached
// only in the caller's tenant and on this node, with one NotFound (404) for every other
// case so nothing about other tenants' pods leaks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Pod, type ReviewTokenResponse } from "@plasmacloud/proto/k8shost";
import { Authenticator, bearerToken, type Caller } from "../../src/nodeapi/authn";
import { errorCode, errorMessage } from "@plasmacloud/common/errors";
import { authorizedPod, type PodLookup } from "../../src/nodeapi/authz";

const alice: ReviewTokenResponse = { authenticated: true, principal: "user:alice", orgId: "org-a", projectId: "proj-a", error: "" };
const denied: ReviewTokenResponse = { authenticated: false, principal: "", orgId: "", projectId: "", error: "invalid or expired token" };

function reviewer(answers: Record<string, ReviewTokenResponse>) {
  const asked: string[] = [];
  const review = async (token: string): Promise<ReviewTokenResponse> => {
    asked.push(token);
    await new Promise((r) => setImmediate(r));
    return answers[token] ?? denied;
  };
  return { review, asked };
}

test("no token, a malformed header or a rejected token is 401, never anonymous; a good one gives the caller", async () => {
  const { review, asked } = reviewer({ "tok-a": alice });
  const a = new Authenticator(review, 60_000);
  for (const h of [undefined, "", "Bearer", "Bearer ", "Basic dXNlcjpwdw==", "tok-a", "Bearer a b"]) {
    assert.deepEqual(await a.authenticate(h), { ok: false, code: "Unauthenticated", message: "Unauthorized" }, String(h));
  }
  assert.deepEqual(asked, [], "nothing to review without a bearer token");
  assert.deepEqual(await a.authenticate("Bearer nope"), { ok: false, code: "Unauthenticated", message: "Unauthorized" });
  assert.deepEqual(await a.authenticate("bearer tok-a"), { ok: true, caller: { principal: "user:alice", orgId: "org-a", projectId: "proj-a" } });
  assert.equal(bearerToken("Bearer  x "), "x");
  assert.equal((await new Authenticator(async () => ({ ...alice, principal: "" }), 0).authenticate("Bearer t")).ok, false, "no principal, no caller");
});

test("reviews are cached for the TTL (answers both ways), shared by concurrent requests, bounded in number", async () => {
  let now = 1_000;
  const { review, asked } = reviewer({ good: alice });
  const a = new Authenticator(review, 120_000, 2, () => now);
  await Promise.all([a.authenticate("Bearer good"), a.authenticate("Bearer good"), a.authenticate("Bearer good")]);
  assert.deepEqual(asked, ["good"], "one review for concurrent requests");
  await a.authenticate("Bearer bad");
  await a.authenticate("Bearer bad");
  assert.deepEqual(asked, ["good", "bad"], "a rejection is cached too (the kubelet's cacheTTL applies to both)");
  now += 120_001;
  await a.authenticate("Bearer good");
  assert.deepEqual(asked, ["good", "bad", "good"], "reviewed again after the TTL");
  await a.authenticate("Bearer x1");
  await a.authenticate("Bearer x2");
  await a.authenticate("Bearer good");
  assert.equal(asked.at(-1), "good", "the oldest entries go when the cache is full");
  const none = reviewer({ good: alice });
  const uncached = new Authenticator(none.review, 0);
  await uncached.authenticate("Bearer good");
  await uncached.authenticate("Bearer good");
  assert.equal(none.asked.length, 2, "TTL 0: every request is reviewed");
});

test("a review that cannot be made is 503 and is not cached; the error does not carry the token", async () => {
  let fail = true;
  const a = new Authenticator(async () => {
    if (fail) throw new Error("ReviewToken: UNAVAILABLE: connection refused");
    return alice;
  }, 60_000);
  const r = await a.authenticate("Bearer s3cret-token");
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.code, "Unavailable");
  assert.doesNotMatch(!r.ok ? r.message : "", /s3cret/);
  fail = false;
  assert.equal((await a.authenticate("Bearer s3cret-token")).ok, true);
});

const pod = (name: string, node: string, orgId = "org-a", projectId = "proj-a"): Pod =>
  Pod.fromPartial({ metadata: { name, namespace: "default", uid: `uid-${name}`, orgId, projectId }, spec: { nodeName: node, containers: [{ name: "app", image: "i" }] } });

/** A control plane's view: the lookup is scoped to the tenant it is asked for. */
function lookupOf(pods: Pod[]): { lookup: PodLookup; calls: number } {
  const o = {
    calls: 0,
    lookup: (async (ref) => {
      o.calls++;
      return pods.find((p) => p.metadata!.orgId === ref.orgId && p.metadata!.projectId === ref.projectId && p.metadata!.namespace === ref.namespace && p.metadata!.name === ref.name);
    }) as PodLookup,
  };
  return o;
}

const caller: Caller = { principal: "user:alice", orgId: "org-a", projectId: "proj-a" };
const ref = (p: string, uid = "") => ({ namespace: "default", pod: p, uid });

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return { code: errorCode(err), message: errorMessage(err) };
  }
  assert.fail("expected a refusal");
}

test("a pod is reached only in the caller's tenant and on this node; every other case is the same 404", async () => {
  const { lookup } = lookupOf([pod("mine", "n1"), pod("theirs", "n1", "org-b", "proj-b"), pod("elsewhere", "n2")]);
  assert.equal((await authorizedPod(caller, ref("mine"), "n1", lookup)).metadata!.uid, "uid-mine");
  assert.equal((await authorizedPod(caller, ref("mine", "uid-mine"), "n1", lookup)).metadata!.name, "mine");
  const cases: [Caller, string, string][] = [
    [caller, "theirs", ""], // another tenant's pod on this node
    [caller, "elsewhere", ""], // the caller's pod, bound to another node
    [caller, "ghost", ""], // no such pod
    [caller, "mine", "uid-old"], // the name, but not the instance asked for
    [{ principal: "system:node:n1", orgId: "", projectId: "" }, "mine", ""], // a principal of no tenant (a node)
    [{ principal: "user:bob", orgId: "org-b", projectId: "proj-b" }, "mine", ""], // another tenant's user
  ];
  for (const [who, name, uid] of cases) {
    const r = await refusal(authorizedPod(who, ref(name, uid), "n1", lookup));
    assert.deepEqual(r, { code: "NotFound", message: `pods "${name}" not found` }, `${who.principal} -> ${name}`);
  }
});

test("even a lookup that answered outside the tenant is refused; a failed lookup is 503", async () => {
  const leaky: PodLookup = async () => pod("mine", "n1", "org-b", "proj-b");
  assert.deepEqual(await refusal(authorizedPod(caller, ref("mine"), "n1", leaky)), { code: "NotFound", message: 'pods "mine" not found' });
  const down: PodLookup = async () => {
    throw new Error("GetPod: UNAVAILABLE");
  };
  assert.equal((await refusal(authorizedPod(caller, ref("mine"), "n1", down))).code, "Unavailable");
  const { lookup, calls } = lookupOf([]);
  await refusal(authorizedPod({ principal: "system:node:n1", orgId: "", projectId: "" }, ref("x"), "n1", lookup));
  assert.equal(calls, 0, "a caller of no tenant is refused without asking");
});
