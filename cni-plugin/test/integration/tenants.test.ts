// Tenant isolation: pods of two tenants land on two bridges and two subnets;
// a port is never created in another tenant's subnet, whichever way the
// tenant reaches the plugin (config, CNI_ARGS, a user token).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { TokenStore } from "../../../stand-ins/src/iam/tokens.js";
import { ensureBuilt } from "../helpers/build.js";
import { exec, sh } from "../helpers/exec.js";
import { createNetns, deleteAllNetns, deleteVethsOf } from "../helpers/netns.js";
import { startFixture, type Fixture } from "../helpers/novanet.js";
import { describeRun, verb } from "../helpers/plugin.js";
import { assertErrorShape } from "../helpers/shapes.js";
import { bridgeName, hostVethName } from "../../src/plumbing/names.js";

const SN_A = `sn-ta-${process.pid}`;
const SN_B = `sn-tb-${process.pid}`;
let fx: Fixture;
const tokens = new TokenStore().add("user-a-token", { name: "user:alice", kind: "user", orgId: "org-a", projectId: "proj-a" });

before(async () => {
  ensureBuilt();
  fx = await startFixture([
    { id: SN_A, orgId: "org-a", projectId: "proj-a", cidr: "10.213.3.0/24" },
    { id: SN_B, orgId: "org-b", projectId: "proj-b", cidr: "10.213.4.0/24" },
  ], { tokens });
});

after(async () => {
  await deleteAllNetns();
  await deleteVethsOf("novanet-test");
  for (const s of [SN_A, SN_B]) await exec("ip", ["link", "del", bridgeName("nvbr", s)]);
  await fx?.close();
});

const master = async (link: string): Promise<string | undefined> =>
  (JSON.parse(await sh("ip", "-j", "link", "show", link)) as { master?: string }[])[0]?.master;

describe("tenants", () => {
  test("two tenants never share a bridge or a subnet", async () => {
    const a = await createNetns("ta");
    const b = await createNetns("tb");
    const base = fx.conf({ org_id: undefined, project_id: undefined, subnet_id: undefined });
    const ra = await verb("ADD", { ...base, org_id: "org-a", project_id: "proj-a", subnet_id: SN_A }, "ten-a", a.path);
    assert.equal(ra.code, 0, describeRun(ra));
    // Tenant B arrives through CNI_ARGS only.
    const rb = await verb("ADD", base, "ten-b", b.path, "eth0", `IgnoreUnknown=1;NOVANET_ORG_ID=org-b;NOVANET_PROJECT_ID=proj-b;NOVANET_SUBNET_ID=${SN_B};K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p`);
    assert.equal(rb.code, 0, describeRun(rb));

    const pa = fx.novanet.ports().find((p) => p.deviceId === "ten-a");
    const pb = fx.novanet.ports().find((p) => p.deviceId === "ten-b");
    assert.deepEqual([pa?.orgId, pa?.subnetId], ["org-a", SN_A]);
    assert.deepEqual([pb?.orgId, pb?.subnetId], ["org-b", SN_B]);
    const [ma, mb] = [await master(hostVethName("ten-a", "eth0")), await master(hostVethName("ten-b", "eth0"))];
    assert.equal(ma, bridgeName("nvbr", SN_A));
    assert.equal(mb, bridgeName("nvbr", SN_B));
    assert.notEqual(ma, mb);
    const members = (JSON.parse(await sh("ip", "-j", "link", "show", "master", ma as string)) as { ifname: string }[]).map((l) => l.ifname);
    assert.deepEqual(members, [hostVethName("ten-a", "eth0")], "tenant A's bridge holds only tenant A's pod");

    for (const [id, ns, cfg, args] of [["ten-a", a, { ...base, org_id: "org-a", project_id: "proj-a", subnet_id: SN_A }, undefined],
      ["ten-b", b, base, `NOVANET_ORG_ID=org-b;NOVANET_PROJECT_ID=proj-b;NOVANET_SUBNET_ID=${SN_B}`]] as const) {
      const d = await verb("DEL", cfg, id, ns.path, "eth0", args);
      assert.equal(d.code, 0, describeRun(d));
    }
    assert.equal(fx.novanet.ports().length, 0);
  });

  test("a port is never created in another tenant's subnet", async () => {
    const ns = await createNetns("tx");
    // Node token, but the tenant named does not own the subnet.
    const r = await verb("ADD", fx.conf({ org_id: "org-b", project_id: "proj-b", subnet_id: SN_A }), "cross-1", ns.path);
    assertErrorShape(r.json, 101, "1.0.0");
    assert.notEqual(r.code, 0);
    // A user token of tenant A asking for tenant B's subnet in B's name.
    const userToken = join(fx.dir, "user-token");
    writeFileSync(userToken, "user-a-token");
    const conf = fx.conf({ org_id: "org-b", project_id: "proj-b", subnet_id: SN_B });
    const r2 = await verb("ADD", { ...conf, novanet: { ...(conf.novanet as object), token_file: userToken } }, "cross-2", ns.path);
    assertErrorShape(r2.json, 101, "1.0.0");
    assert.equal(fx.novanet.ports().length, 0, "no port anywhere");
    assert.match(await sh("ip", "-n", ns.name, "-br", "link"), /^lo\s/);
    assert.doesNotMatch(await sh("ip", "-n", ns.name, "-br", "link"), /eth0/);
    assert.equal((await exec("ip", ["link", "show", hostVethName("cross-1", "eth0")])).code, 1, "no host veth left");
  });
});
