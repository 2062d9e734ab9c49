// On-disk result cache, one file per attachment at
// <cacheDir>/<network>-<containerId>-<ifname>, in libcni's "cniCacheV1"
// format so either writer's file is readable by the other (containerd's
// libcni writes the same path after a successful ADD). Our own fields live
// under "novanet"; tenant can always be re-derived from config + cniArgs.
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NovanetMode } from "@plasmacloud/proto/netconf";
import { CniCode, CniError } from "../errors.js";
import type { CniResult } from "../result.js";

export interface NovanetCacheInfo {
  portId: string;
  hostVeth: string;
  mode: NovanetMode;
  bridge: string;
  orgId: string;
  projectId: string;
  subnetId: string;
}

export interface CacheEntry {
  kind: "cniCacheV1";
  containerId: string;
  /** The network config bytes of the ADD, base64 (libcni's encoding). */
  config: string;
  ifName: string;
  networkName: string;
  cniArgs?: [string, string][];
  capabilityArgs?: Record<string, unknown>;
  result: CniResult;
  novanet?: NovanetCacheInfo;
}

export function cachePath(dir: string, network: string, containerId: string, ifname: string): string {
  return join(dir, `${network}-${containerId}-${ifname}`);
}

export function writeCache(dir: string, e: CacheEntry): void {
  const path = cachePath(dir, e.networkName, e.containerId, e.ifName);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Write then rename: a crash never leaves a half-written entry.
    writeFileSync(`${path}.tmp`, JSON.stringify(e), { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  } catch (err) {
    throw new CniError(CniCode.IoFailure, "failed to write result cache", `${path}: ${(err as Error).message}`);
  }
}

function parseEntry(text: string): CacheEntry | undefined {
  try {
    const o = JSON.parse(text) as Partial<CacheEntry>;
    if (o.kind !== "cniCacheV1" || typeof o.containerId !== "string" || typeof o.ifName !== "string" || typeof o.networkName !== "string") return undefined;
    return o as CacheEntry;
  } catch {
    return undefined;
  }
}

export function readCache(dir: string, network: string, containerId: string, ifname: string): CacheEntry | undefined {
  let text: string;
  try {
    text = readFileSync(cachePath(dir, network, containerId, ifname), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CniError(CniCode.IoFailure, "failed to read result cache", (err as Error).message);
  }
  return parseEntry(text);
}

export function removeCache(dir: string, network: string, containerId: string, ifname: string): void {
  try {
    rmSync(cachePath(dir, network, containerId, ifname), { force: true });
  } catch (err) {
    throw new CniError(CniCode.IoFailure, "failed to remove result cache", (err as Error).message);
  }
}

/** Every readable entry of one network (GC's view of what this node attached). */
export function listCache(dir: string, network: string): CacheEntry[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new CniError(CniCode.IoFailure, "failed to list result cache", (err as Error).message);
  }
  const out: CacheEntry[] = [];
  for (const n of names) {
    if (!n.startsWith(`${network}-`) || n.endsWith(".tmp")) continue;
    try {
      const e = parseEntry(readFileSync(join(dir, n), "utf8"));
      if (e && e.networkName === network) out.push(e);
    } catch {
      // Vanished between readdir and read: a concurrent DEL; nothing to collect.
    }
  }
  return out;
}
