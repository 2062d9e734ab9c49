// The network config on stdin: parse, validate (errors name the field), and
// resolve the tenant context. Decoding failures are error 6, bad values 7,
// an unsupported cniVersion 1.
import { CniCode, CniError } from "../errors.js";
import { isSupportedVersion, type CniResult, type CniVersion } from "../result.js";
import { resolveTenant, type K8sPod, type TenantContext } from "./tenant.js";

export type Mode = "ovs" | "bridge";

export interface TlsConf { caFile?: string; certFile?: string; keyFile?: string; serverName?: string }

export interface ServerConf {
  addr: string;
  tokenFile?: string;
  tls?: TlsConf;
  timeoutMs: number;
}

export interface Attachment { containerID: string; ifname: string }

export interface NetConf {
  cniVersion: CniVersion;
  name: string;
  server: ServerConf;
  mode: Mode;
  /** OVS: the integration bridge. Bridge mode: prefix of the per-subnet bridge name. */
  bridge: string;
  /** ovs-vsctl --db target; undefined uses ovs-vsctl's default. */
  ovsdb?: string;
  mtu?: number;
  cacheDir: string;
  logFile?: string;
  tenant: TenantContext;
  pod: K8sPod;
  prevResult?: CniResult;
  validAttachments?: Attachment[];
}

export const DEFAULT_CACHE_DIR = "/var/lib/cni/results";
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

function bad(field: string, why: string): CniError {
  return new CniError(CniCode.InvalidConfig, `invalid network config: ${field} ${why}`);
}

function str(o: Json, key: string, field: string, required: boolean): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === "") {
    if (required) throw bad(field, "is required");
    return undefined;
  }
  if (typeof v !== "string") throw bad(field, "must be a string");
  return v;
}

/** Parses stdin just far enough to learn the cniVersion (for error output). */
export function peekVersion(stdin: string): string | undefined {
  try {
    const o: unknown = JSON.parse(stdin);
    return isObj(o) && typeof o.cniVersion === "string" ? o.cniVersion : undefined;
  } catch {
    return undefined;
  }
}

export function decode(stdin: string): Json {
  let o: unknown;
  try {
    o = JSON.parse(stdin);
  } catch (e) {
    throw new CniError(CniCode.DecodeFailure, "failed to decode network config", (e as Error).message);
  }
  if (!isObj(o)) throw new CniError(CniCode.DecodeFailure, "failed to decode network config", "expected a JSON object");
  return o;
}

export function checkVersion(o: Json): CniVersion {
  const v = o.cniVersion;
  if (v === undefined) throw bad("cniVersion", "is required");
  if (!isSupportedVersion(v)) {
    throw new CniError(CniCode.IncompatibleVersion, `incompatible CNI version ${JSON.stringify(v)}`, "supported: 0.4.0, 1.0.0, 1.1.0");
  }
  return v;
}

function parseServer(o: Json): ServerConf {
  const n = o.novanet;
  if (!isObj(n)) throw bad("novanet", "is required (an object with server_addr)");
  const addr = str(n, "server_addr", "novanet.server_addr", true) as string;
  if (!/^[^\s/]+:\d+$/.test(addr) && !addr.startsWith("unix:")) throw bad("novanet.server_addr", "must be host:port or unix:PATH");
  const timeout = n.timeout_ms ?? 5000;
  if (typeof timeout !== "number" || !Number.isInteger(timeout) || timeout <= 0) throw bad("novanet.timeout_ms", "must be a positive integer");
  const server: ServerConf = { addr, tokenFile: str(n, "token_file", "novanet.token_file", false), timeoutMs: timeout };
  if (n.tls !== undefined && n.tls !== null && n.tls !== false) {
    if (n.tls === true) server.tls = {};
    else if (isObj(n.tls)) {
      server.tls = {
        caFile: str(n.tls, "ca_file", "novanet.tls.ca_file", false),
        certFile: str(n.tls, "cert_file", "novanet.tls.cert_file", false),
        keyFile: str(n.tls, "key_file", "novanet.tls.key_file", false),
        serverName: str(n.tls, "server_name", "novanet.tls.server_name", false),
      };
      if (!server.tls.certFile !== !server.tls.keyFile) throw bad("novanet.tls", "cert_file and key_file go together");
    } else throw bad("novanet.tls", "must be true or an object");
  }
  return server;
}

function parseAttachments(o: Json): Attachment[] | undefined {
  const v = o["cni.dev/valid-attachments"];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw bad("cni.dev/valid-attachments", "must be a list");
  return v.map((a, i) => {
    if (!isObj(a) || typeof a.containerID !== "string" || typeof a.ifname !== "string") {
      throw bad(`cni.dev/valid-attachments[${i}]`, "must be {containerID, ifname}");
    }
    return { containerID: a.containerID, ifname: a.ifname };
  });
}

/** Full parse for every verb but VERSION. */
export function parseNetConf(stdin: string, cniArgs: [string, string][]): NetConf {
  const o = decode(stdin);
  const cniVersion = checkVersion(o);
  const name = str(o, "name", "name", true) as string;
  if (!NAME.test(name)) throw bad("name", "must start alphanumeric, then alphanumerics, '_', '.', '-'");
  const type = str(o, "type", "type", true);
  if (type !== "novanet") throw bad("type", `must be "novanet", got ${JSON.stringify(type)}`);
  const mode = (str(o, "mode", "mode", false) ?? "ovs") as Mode;
  if (mode !== "ovs" && mode !== "bridge") throw bad("mode", `must be "ovs" or "bridge", got ${JSON.stringify(mode)}`);
  const bridge = str(o, "bridge", "bridge", false) ?? (mode === "ovs" ? "br-int" : "nvbr");
  if (mode === "ovs" && (bridge.length > 15 || /[/:\s]/.test(bridge))) throw bad("bridge", "must be a valid interface name");
  if (mode === "bridge" && !/^[a-z0-9-]{1,5}$/.test(bridge)) throw bad("bridge", "in bridge mode is a name prefix of 1-5 of [a-z0-9-]");
  const mtu = o.mtu;
  if (mtu !== undefined && (typeof mtu !== "number" || !Number.isInteger(mtu) || mtu < 576 || mtu > 65535)) {
    throw bad("mtu", "must be an integer in 576..65535");
  }
  const prev = o.prevResult;
  if (prev !== undefined && !isObj(prev)) throw bad("prevResult", "must be an object");
  return {
    cniVersion, name, mode, bridge,
    server: parseServer(o),
    ovsdb: str(o, "ovsdb", "ovsdb", false),
    mtu: mtu as number | undefined,
    cacheDir: str(o, "cacheDir", "cacheDir", false) ?? DEFAULT_CACHE_DIR,
    logFile: str(o, "logFile", "logFile", false),
    ...resolveTenant(o, cniArgs),
    prevResult: prev as CniResult | undefined,
    validAttachments: parseAttachments(o),
  };
}

/** The ids ADD needs; the error names every place the field may come from. */
export function requireTenant(c: NetConf, fields: readonly ("orgId" | "projectId" | "subnetId")[]): Required<TenantContext> {
  const names = { orgId: "org_id", projectId: "project_id", subnetId: "subnet_id" } as const;
  for (const f of fields) {
    if (!c.tenant[f]) {
      const n = names[f];
      throw new CniError(CniCode.InvalidConfig, `invalid network config: ${n} is required`,
        `set ${n} in the network config, runtimeConfig.novanet.${n}, the pod annotation plasmacloud.io/${n.replace("_", "-")}, args.cni.novanet.${n} or CNI_ARGS NOVANET_${n.toUpperCase()}`);
    }
  }
  return { orgId: c.tenant.orgId ?? "", projectId: c.tenant.projectId ?? "", subnetId: c.tenant.subnetId ?? "" };
}
