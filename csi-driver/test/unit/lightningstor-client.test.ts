// The LightningStor client against the stand-in (no root needed): bearer
// token from a file (re-read when it changes), tenant scoping, codes.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { TokenStore } from "../../../stand-ins/src/iam/tokens";
import { startLightningStorStandIn, type LightningStorStandIn } from "../../../stand-ins/src/lightningstor/server";
import { BackendError, LightningStorClient } from "../../src/lightningstor/client";

let dir: string;
let standIn: LightningStorStandIn;
let tokenFile: string;
const tokens = new TokenStore()
  .add("alice-token", { name: "user:alice", kind: "user", orgId: "org-a", projectId: "p" })
  .add("bob-token", { name: "user:bob", kind: "user", orgId: "org-b", projectId: "p" })
  .add("node-token", { name: "system:node:w1", kind: "node", orgId: "org-a", projectId: "p", nodeName: "w1" });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "ls-client-"));
  tokenFile = join(dir, "token");
  standIn = await startLightningStorStandIn({ tokens, dataDir: join(dir, "data") });
});
after(async () => {
  await standIn?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const client = (tenant = { orgId: "org-a", projectId: "p" }) => new LightningStorClient({ address: standIn.address, tokenFile, tenant });
const codeOf = async (p: Promise<unknown>): Promise<number> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof BackendError) return e.code;
    throw e;
  }
  return status.OK;
};

test("volumes are sparse files; names are unique per tenant; other tenants see NOT_FOUND", async () => {
  writeFileSync(tokenFile, "alice-token\n");
  const c = client();
  const v = await c.createVolume("data", 64n << 20n, { tier: "fast" });
  assert.match(v.id, /^vol-[0-9a-f]{32}$/);
  const st = statSync(standIn.filePath(v.id));
  assert.equal(BigInt(st.size), 64n << 20n);
  assert.ok(st.blocks * 512 < 1 << 20, "sparse");
  assert.equal(await codeOf(c.createVolume("data", 1n << 20n, {})), status.ALREADY_EXISTS);
  assert.equal(await codeOf(c.createVolume("", 1n << 20n, {})), status.INVALID_ARGUMENT);

  writeFileSync(tokenFile, "bob-token\n");
  const bob = client({ orgId: "", projectId: "" });
  assert.equal(await codeOf(bob.getVolume(v.id)), status.NOT_FOUND);
  assert.equal(await codeOf(bob.deleteVolume(v.id)), status.NOT_FOUND);
  assert.equal((await bob.listVolumes({})).volumes.length, 0);
  // A user naming another tenant explicitly still sees nothing.
  assert.equal(await codeOf(client({ orgId: "org-a", projectId: "p" }).getVolume(v.id)), status.NOT_FOUND);
  c.close();
  bob.close();
});

test("the token file is re-read when it changes; a bad token is UNAUTHENTICATED", async () => {
  writeFileSync(tokenFile, "wrong\n");
  const c = client();
  assert.equal(await codeOf(c.listVolumes({})), status.UNAUTHENTICATED);
  await new Promise((r) => setTimeout(r, 20)); // distinct mtime
  writeFileSync(tokenFile, "alice-token\n");
  assert.equal(await codeOf(c.listVolumes({})), status.OK);
  c.close();
});

test("attach is per node and idempotent; a node principal may act only for itself", async () => {
  writeFileSync(tokenFile, "node-token\n");
  const c = client();
  const v = await c.createVolume("attach-me", 1n << 20n, {});
  const a1 = await c.attachVolume(v.id, "w1");
  const a2 = await c.attachVolume(v.id, "w1");
  assert.deepEqual(a1, a2);
  assert.equal(a1.transport, "file");
  assert.equal(a1.file?.path, standIn.filePath(v.id));
  assert.equal(await codeOf(c.attachVolume(v.id, "w2")), status.PERMISSION_DENIED);
  assert.equal(await codeOf(c.deleteVolume(v.id)), status.FAILED_PRECONDITION);
  await c.detachVolume(v.id, "w1");
  await c.detachVolume(v.id, "w1");
  assert.equal(await codeOf(c.expandVolume(v.id, 1n)), status.OUT_OF_RANGE);
  assert.equal((await c.expandVolume(v.id, 2n << 20n)).sizeBytes, 2n << 20n);
  assert.equal(BigInt(statSync(standIn.filePath(v.id)).size), 2n << 20n);
  await c.deleteVolume(v.id);
  assert.equal(await codeOf(c.getVolume(v.id)), status.NOT_FOUND);
  c.close();
});

test("list pages with opaque tokens; a forged token is INVALID_ARGUMENT", async () => {
  writeFileSync(tokenFile, "alice-token\n");
  const c = client();
  for (const n of ["l1", "l2", "l3"]) await c.createVolume(n, 1n << 20n, {});
  const all = (await c.listVolumes({})).volumes.map((v) => v.id);
  const paged: string[] = [];
  let token = "";
  do {
    const r = await c.listVolumes({ pageSize: 2, pageToken: token });
    paged.push(...r.volumes.map((v) => v.id));
    token = r.nextPageToken;
  } while (token);
  assert.deepEqual(paged, all);
  assert.equal((await c.listVolumes({ name: "l2" })).volumes.length, 1);
  assert.equal(await codeOf(c.listVolumes({ pageToken: "abcdefg" })), status.INVALID_ARGUMENT);
  c.close();
});
