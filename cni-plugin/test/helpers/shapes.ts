// Checks plugin output against the CNI spec's result and error shapes for a
// given version, key by key, so extra or misspelled fields fail too.
import assert from "node:assert/strict";

const CIDR4 = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;
const IP4 = /^(\d{1,3}\.){3}\d{1,3}$/;
const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;

function onlyKeys(o: Record<string, unknown>, allowed: string[], what: string): void {
  for (const k of Object.keys(o)) assert.ok(allowed.includes(k), `${what}: unexpected key ${k}`);
}

export function assertResultShape(j: unknown, version: string): asserts j is Record<string, unknown> {
  assert.ok(j && typeof j === "object", "result is an object");
  const r = j as Record<string, unknown>;
  onlyKeys(r, ["cniVersion", "interfaces", "ips", "routes", "dns"], "result");
  assert.equal(r.cniVersion, version);
  const ifaces = (r.interfaces ?? []) as Record<string, unknown>[];
  assert.ok(Array.isArray(ifaces));
  for (const i of ifaces) {
    onlyKeys(i, version === "1.1.0" ? ["name", "mac", "mtu", "sandbox", "socketPath", "pciID"] : ["name", "mac", "sandbox"], "interface");
    assert.equal(typeof i.name, "string");
    if (i.mac !== undefined) assert.match(i.mac as string, MAC);
    if (i.sandbox !== undefined) assert.equal(typeof i.sandbox, "string");
    if (i.mtu !== undefined) assert.ok(Number.isInteger(i.mtu));
  }
  const ips = r.ips as Record<string, unknown>[];
  assert.ok(Array.isArray(ips) && ips.length > 0, "ips present");
  for (const ip of ips) {
    onlyKeys(ip, version === "0.4.0" ? ["version", "address", "gateway", "interface"] : ["address", "gateway", "interface"], "ip");
    if (version === "0.4.0") assert.equal(ip.version, "4");
    assert.match(ip.address as string, CIDR4);
    if (ip.gateway !== undefined) assert.match(ip.gateway as string, IP4);
    if (ip.interface !== undefined) {
      assert.ok(Number.isInteger(ip.interface) && (ip.interface as number) >= 0 && (ip.interface as number) < ifaces.length, "ip.interface indexes interfaces");
      assert.ok(ifaces[ip.interface as number]?.sandbox, "ip points at the sandbox interface");
    }
  }
  for (const rt of (r.routes ?? []) as Record<string, unknown>[]) {
    onlyKeys(rt, version === "1.1.0" ? ["dst", "gw", "mtu", "advmss", "priority", "table", "scope"] : ["dst", "gw"], "route");
    assert.match(rt.dst as string, CIDR4);
    if (rt.gw !== undefined) assert.match(rt.gw as string, IP4);
  }
  if (r.dns !== undefined) {
    const d = r.dns as Record<string, unknown>;
    onlyKeys(d, ["nameservers", "domain", "search", "options"], "dns");
    if (d.nameservers !== undefined) assert.ok(Array.isArray(d.nameservers));
  }
}

export function assertErrorShape(j: unknown, code: number, version?: string): asserts j is Record<string, unknown> {
  assert.ok(j && typeof j === "object", "error output is a JSON object");
  const e = j as Record<string, unknown>;
  onlyKeys(e, ["cniVersion", "code", "msg", "details"], "error");
  assert.equal(typeof e.cniVersion, "string");
  if (version) assert.equal(e.cniVersion, version);
  assert.equal(e.code, code, `error code (msg: ${String(e.msg)}; details: ${String(e.details)})`);
  assert.equal(typeof e.msg, "string");
  assert.ok((e.msg as string).length > 0);
  if (e.details !== undefined) assert.equal(typeof e.details, "string");
}
