// The network config on stdin: parse, validate (errors name the field), and
// resolve the tenant context. Decoding failures are error 6, bad values 7,
// an unsupported cniVersion 1. The shape is the contract the agent writes,
// NovanetNetConf in @plasmacloud/proto/netconf; fields.ts reads every key
// through it.
import { TenantKeys } from "@plasmacloud/proto/annotations";
import type { NovanetNetConf, NovanetOvnConf, NovanetServerConf, ValidAttachment } from "@plasmacloud/proto/netconf";
import { CniCode, CniError } from "../errors.js";
import { isSupportedVersion, type CniResult, type CniVersion } from "../result.js";
import { bad, isRaw, optString, reqString, type Raw } from "./fields.js";
import { resolveTenant, TENANT_SOURCES, type K8sPod, type TenantContext, type TenantField } from "./tenant.js";

/** The contract's tls object; `tls: true` (system CAs) parses to {}. */
export type TlsFiles = Exclude<NonNullable<NovanetServerConf["tls"]>, true>;

/** The contract's `novanet` block with its default applied. */
export type ServerConf = Omit<NovanetServerConf, "timeout_ms" | "tls"> & { timeout_ms: number; tls?: TlsFiles };

/** The contract's fields with their defaults applied, plus what is resolved per call. */
export interface NetConf extends Pick<NovanetNetConf, "name" | "ovsdb" | "mtu" | "logFile">, Required<Pick<NovanetNetConf, "mode" | "bridge" | "cacheDir">> {
  cniVersion: CniVersion;
  server: ServerConf;
  tenant: TenantContext;
  pod: K8sPod;
  /** ovs mode on an OVN-managed bridge. */
  ovn?: OvnConf;
  prevResult?: CniResult;
  validAttachments?: ValidAttachment[];
}

/** The contract's `ovn` block with its defaults applied. */
export interface OvnConf {
  installedTimeoutMs: number;
  management?: { orgId: string; projectId: string; subnetId: string; ifname: string };
}

export const DEFAULT_CACHE_DIR = "/var/lib/cni/results";
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Parses stdin just far enough to learn the cniVersion (for error output). */
export function peekVersion(stdin: string): string | undefined {
  try {
    const o: unknown = JSON.parse(stdin);
    return isRaw<NovanetNetConf>(o) && typeof o.cniVersion === "string" ? o.cniVersion : undefined;
  } catch {
    return undefined;
  }
}

export function decode(stdin: string): Raw<NovanetNetConf> {
  let o: unknown;
  try {
    o = JSON.parse(stdin);
  } catch (e) {
    throw new CniError(CniCode.DecodeFailure, "failed to decode network config", (e as Error).message);
  }
  if (!isRaw<NovanetNetConf>(o)) throw new CniError(CniCode.DecodeFailure, "failed to decode network config", "expected a JSON object");
  return o;
}

export function checkVersion(o: Raw<NovanetNetConf>): CniVersion {
  const v = o.cniVersion;
  if (v === undefined) throw bad("cniVersion", "is required");
  if (!isSupportedVersion(v)) {
    throw new CniError(CniCode.IncompatibleVersion, `incompatible CNI version ${JSON.stringify(v)}`, "supported: 0.4.0, 1.0.0, 1.1.0");
  }
  return v;
}

function parseServer(o: Raw<NovanetNetConf>): ServerConf {
  const n = o.novanet;
  if (!isRaw<NovanetServerConf>(n)) throw bad("novanet", "is required (an object with server_addr)");
  const addr = reqString(n, "server_addr", "novanet.");
  if (!/^[^\s/]+:\d+$/.test(addr) && !addr.startsWith("unix:")) throw bad("novanet.server_addr", "must be host:port or unix:PATH");
  const timeout = n.timeout_ms ?? 5000;
  if (typeof timeout !== "number" || !Number.isInteger(timeout) || timeout <= 0) throw bad("novanet.timeout_ms", "must be a positive integer");
  const server: ServerConf = { server_addr: addr, token_file: optString(n, "token_file", "novanet."), timeout_ms: timeout };
  const tls = n.tls;
  if (tls !== undefined && tls !== null && tls !== false) {
    if (tls === true) server.tls = {};
    else if (isRaw<TlsFiles>(tls)) {
      server.tls = {
        ca_file: optString(tls, "ca_file", "novanet.tls."),
        cert_file: optString(tls, "cert_file", "novanet.tls."),
        key_file: optString(tls, "key_file", "novanet.tls."),
        server_name: optString(tls, "server_name", "novanet.tls."),
      };
      if (!server.tls.cert_file !== !server.tls.key_file) throw bad("novanet.tls", "cert_file and key_file go together");
    } else throw bad("novanet.tls", "must be true or an object");
  }
  return server;
}

/**
 * `ovn`: present only when br-int belongs to OVN. A plain OVS bridge (no
 * ovn-controller) never gets ovn-installed, so ADD must not wait there.
 * Parsed here, not in a module of its own: every verb loads this file.
 */
function parseOvn(o: Raw<NovanetNetConf>, mode: string): OvnConf | undefined {
  const v = o.ovn;
  if (v === undefined || v === null) return undefined;
  if (!isRaw<NovanetOvnConf>(v)) throw bad("ovn", "must be an object");
  if (mode !== "ovs") throw bad("ovn", `needs mode "ovs" (OVN runs on an OVS bridge), mode is ${JSON.stringify(mode)}`);
  const t = v.installed_timeout_ms ?? 10_000;
  if (typeof t !== "number" || !Number.isInteger(t) || t <= 0) throw bad("ovn.installed_timeout_ms", "must be a positive integer");
  const m = v.management;
  if (m === undefined || m === null) return { installedTimeoutMs: t };
  if (!isRaw<NonNullable<NovanetOvnConf["management"]>>(m)) throw bad("ovn.management", "must be an object");
  const at = "ovn.management.";
  const ifname = optString(m, "ifname", at) ?? "nvmp0";
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(ifname)) throw bad(`${at}ifname`, "must be an interface name of 1-15 of [A-Za-z0-9_.-]");
  const [orgId, projectId, subnetId] = [reqString(m, "org_id", at), reqString(m, "project_id", at), reqString(m, "subnet_id", at)];
  return { installedTimeoutMs: t, management: { orgId, projectId, subnetId, ifname } };
}

function parseAttachments(o: Raw<NovanetNetConf>): ValidAttachment[] | undefined {
  const key = "cni.dev/valid-attachments";
  const v = o[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw bad(key, "must be a list");
  return v.map((a: unknown, i) => {
    if (!isRaw<ValidAttachment>(a) || typeof a.containerID !== "string" || typeof a.ifname !== "string") {
      throw bad(`${key}[${i}]`, "must be {containerID, ifname}");
    }
    return { containerID: a.containerID, ifname: a.ifname };
  });
}

/** Full parse for every verb but VERSION. */
export function parseNetConf(stdin: string, cniArgs: [string, string][]): NetConf {
  const o = decode(stdin);
  const cniVersion = checkVersion(o);
  const name = reqString(o, "name");
  if (!NAME.test(name)) throw bad("name", "must start alphanumeric, then alphanumerics, '_', '.', '-'");
  const type = reqString(o, "type");
  if (type !== "novanet") throw bad("type", `must be "novanet", got ${JSON.stringify(type)}`);
  const mode = optString(o, "mode") ?? "ovs";
  if (mode !== "ovs" && mode !== "bridge") throw bad("mode", `must be "ovs" or "bridge", got ${JSON.stringify(mode)}`);
  const bridge = optString(o, "bridge") ?? (mode === "ovs" ? "br-int" : "nvbr");
  if (mode === "ovs" && (bridge.length > 15 || /[/:\s]/.test(bridge))) throw bad("bridge", "must be a valid interface name");
  if (mode === "bridge" && !/^[a-z0-9-]{1,5}$/.test(bridge)) throw bad("bridge", "in bridge mode is a name prefix of 1-5 of [a-z0-9-]");
  const mtu = o.mtu;
  if (mtu !== undefined && (typeof mtu !== "number" || !Number.isInteger(mtu) || mtu < 576 || mtu > 65535)) {
    throw bad("mtu", "must be an integer in 576..65535");
  }
  const prev = o.prevResult;
  if (prev !== undefined && !isRaw<CniResult>(prev)) throw bad("prevResult", "must be an object");
  return {
    cniVersion, name, mode, bridge,
    server: parseServer(o),
    ovsdb: optString(o, "ovsdb"),
    mtu,
    ovn: parseOvn(o, mode),
    cacheDir: optString(o, "cacheDir") ?? DEFAULT_CACHE_DIR,
    logFile: optString(o, "logFile"),
    ...resolveTenant(o, cniArgs),
    // Earlier plugins' result, passed through: only its shape is ours to trust.
    prevResult: prev as CniResult | undefined,
    validAttachments: parseAttachments(o),
  };
}

/** The ids ADD needs; the error names every place the field may come from. */
export function requireTenant(c: NetConf, fields: readonly TenantField[]): Required<TenantContext> {
  for (const f of fields) {
    if (!c.tenant[f]) {
      const { conf: n, cniArg } = TENANT_SOURCES[f];
      throw new CniError(CniCode.InvalidConfig, `invalid network config: ${n} is required`,
        `set ${n} in the network config, runtimeConfig.novanet.${n}, the pod annotation ${TenantKeys[f]}, args.cni.novanet.${n} or CNI_ARGS ${cniArg}`);
    }
  }
  return { orgId: c.tenant.orgId ?? "", projectId: c.tenant.projectId ?? "", subnetId: c.tenant.subnetId ?? "" };
}
