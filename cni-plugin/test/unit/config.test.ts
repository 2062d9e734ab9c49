// Network config parsing: field-named errors with the right CNI codes, and
// the documented precedence of tenant sources.
import { test } from "node:test";
import assert from "node:assert/strict";
import { POD_ANNOTATIONS_CAPABILITY, TenantKeys } from "@plasmacloud/proto/annotations";
import { parseNetConf, requireTenant } from "../../src/config/config.js";
import { parseCniArgs, readEnv } from "../../src/env.js";
import { CniError } from "../../src/errors.js";

const base = {
  cniVersion: "1.0.0", name: "net", type: "novanet",
  novanet: { server_addr: "127.0.0.1:9190", token_file: "/t" },
  org_id: "org-top", project_id: "proj-top", subnet_id: "sn-top",
};
const parse = (o: unknown, args: [string, string][] = []) => parseNetConf(JSON.stringify(o), args);
/** `names`: a pattern, or a string the message or details must contain. */
function throwsCode(fn: () => unknown, code: number, names?: RegExp | string): void {
  const named = (s: string): boolean => names === undefined || (typeof names === "string" ? s.includes(names) : names.test(s));
  assert.throws(fn, (e: unknown) => e instanceof CniError && e.code === code && named(`${e.message} ${e.details}`));
}

test("defaults: ovs mode on br-int, libcni's cache dir, 5 s timeout", () => {
  const c = parse(base);
  assert.equal(c.mode, "ovs");
  assert.equal(c.bridge, "br-int");
  assert.equal(c.cacheDir, "/var/lib/cni/results");
  assert.equal(c.server.timeout_ms, 5000);
  assert.equal(parse({ ...base, mode: "bridge" }).bridge, "nvbr");
});

test("decode failures are 6, bad values 7 naming the field, versions 1", () => {
  throwsCode(() => parseNetConf("{", []), 6);
  throwsCode(() => parseNetConf("null", []), 6);
  throwsCode(() => parse({ ...base, cniVersion: "0.3.1" }), 1);
  throwsCode(() => parse({ ...base, novanet: { server_addr: "no-port" } }), 7, /novanet\.server_addr/);
  throwsCode(() => parse({ ...base, novanet: { ...base.novanet, timeout_ms: -1 } }), 7, /timeout_ms/);
  throwsCode(() => parse({ ...base, mode: "bridge", bridge: "waytoolong" }), 7, /bridge/);
  throwsCode(() => parse({ ...base, "cni.dev/valid-attachments": [{ containerID: 1 }] }), 7, /valid-attachments\[0\]/);
  throwsCode(() => parse({ ...base, runtimeConfig: { novanet: { org_id: 5 } } }), 7, /runtimeConfig\.novanet\.org_id/);
});

test("tenant precedence: runtimeConfig > args > CNI_ARGS > top level, per field", () => {
  const args: [string, string][] = [["NOVANET_ORG_ID", "org-env"], ["NOVANET_PROJECT_ID", "proj-env"], ["NOVANET_SUBNET_ID", "sn-env"]];
  assert.deepEqual(parse(base).tenant, { orgId: "org-top", projectId: "proj-top", subnetId: "sn-top" });
  assert.deepEqual(parse(base, args).tenant, { orgId: "org-env", projectId: "proj-env", subnetId: "sn-env" });
  const c = parse({ ...base, args: { cni: { novanet: { project_id: "proj-args", subnet_id: "sn-args" } } }, runtimeConfig: { novanet: { subnet_id: "sn-rc" } } }, args);
  assert.deepEqual(c.tenant, { orgId: "org-env", projectId: "proj-args", subnetId: "sn-rc" });
});

test("pod annotations passed by the runtime set the tenant, below runtimeConfig.novanet", () => {
  const ann = { [TenantKeys.orgId]: "org-ann", [TenantKeys.projectId]: "proj-ann", [TenantKeys.subnetId]: "sn-ann", other: "x" };
  const args: [string, string][] = [["NOVANET_ORG_ID", "org-env"]];
  const c = parse({ ...base, runtimeConfig: { [POD_ANNOTATIONS_CAPABILITY]: ann } }, args);
  assert.deepEqual(c.tenant, { orgId: "org-ann", projectId: "proj-ann", subnetId: "sn-ann" });
  const d = parse({ ...base, runtimeConfig: { novanet: { subnet_id: "sn-rc" }, [POD_ANNOTATIONS_CAPABILITY]: ann } });
  assert.equal(d.tenant.subnetId, "sn-rc");
  // containerd sends null when the sandbox has no annotations.
  assert.equal(parse({ ...base, runtimeConfig: { [POD_ANNOTATIONS_CAPABILITY]: null } }).tenant.orgId, "org-top");
  throwsCode(() => parse({ ...base, runtimeConfig: { [POD_ANNOTATIONS_CAPABILITY]: { [TenantKeys.orgId]: 3 } } }), 7, TenantKeys.orgId);
});

test("K8S_POD_* only label the attachment", () => {
  const c = parse(base, [["K8S_POD_NAMESPACE", "ns"], ["K8S_POD_NAME", "p"], ["K8S_POD_UID", "u"], ["K8S_POD_INFRA_CONTAINER_ID", "i"]]);
  assert.deepEqual(c.pod, { namespace: "ns", name: "p", uid: "u", infraContainerId: "i" });
  assert.equal(c.tenant.orgId, "org-top");
});

test("requireTenant names every place a missing field may come from", () => {
  const c = parse({ ...base, subnet_id: undefined });
  throwsCode(() => requireTenant(c, ["orgId", "projectId", "subnetId"]), 7, /subnet_id.*NOVANET_SUBNET_ID/);
});

test("CNI_ARGS and env validation are error 4", () => {
  assert.deepEqual(parseCniArgs("A=1;B=x=y;;"), [["A", "1"], ["B", "x=y"]]);
  throwsCode(() => parseCniArgs("A"), 4);
  throwsCode(() => readEnv({ CNI_COMMAND: "ADD", CNI_CONTAINERID: "-bad", CNI_NETNS: "/n", CNI_IFNAME: "eth0" }), 4, /CNI_CONTAINERID/);
  throwsCode(() => readEnv({ CNI_COMMAND: "DEL", CNI_CONTAINERID: "c", CNI_IFNAME: "a/b" }), 4, /CNI_IFNAME/);
  assert.equal(readEnv({ CNI_COMMAND: "DEL", CNI_CONTAINERID: "c", CNI_IFNAME: "eth0" }).netns, "", "DEL needs no netns");
  assert.equal(readEnv({ CNI_COMMAND: "GC" }).command, "GC");
});
