// A systemd unit file as the tests read it: section -> key -> every value the
// key was given, in order (ExecStart= of a oneshot and After= may repeat).
// Comments, blank lines and continuation lines are handled as systemd does.
import { readFileSync } from "node:fs";

export type Unit = Map<string, Map<string, string[]>>;

export function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, " ").split("\n");
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = unit.get(header[1]!) ?? new Map();
      unit.set(header[1]!, section);
      continue;
    }
    const eq = line.indexOf("=");
    if (!section || eq < 1) throw new Error(`not a unit file line: ${raw}`);
    const key = line.slice(0, eq).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return unit;
}

export const readUnit = (path: string): Unit => parseUnit(readFileSync(path, "utf8"));

/** Every value of Section.Key (empty when unset). */
export function values(u: Unit, section: string, key: string): string[] {
  return u.get(section)?.get(key) ?? [];
}

/** The one value of Section.Key, or undefined. */
export function value(u: Unit, section: string, key: string): string | undefined {
  return values(u, section, key).at(-1);
}

/** Space-separated list values (After=, Wants=, WantedBy=) of every assignment. */
export function list(u: Unit, section: string, key: string): string[] {
  return values(u, section, key).flatMap((v) => v.split(/\s+/).filter(Boolean));
}

/** systemd time span ("5s", "30s", "1min", "250ms", "2") in milliseconds. */
export function timeSpanMs(v: string): number {
  const m = /^(\d+)\s*(ms|s|sec|min|m|h)?$/.exec(v.trim());
  if (!m) throw new Error(`unsupported time span '${v}'`);
  const scale: Record<string, number> = { ms: 1, s: 1000, sec: 1000, min: 60_000, m: 60_000, h: 3_600_000 };
  return Number(m[1]) * scale[m[2] ?? "s"]!;
}

/**
 * Directives that give a service its own mount namespace (systemd.exec(5):
 * PrivateMounts= and the settings "equivalent to this option"), whose mounts
 * never propagate back to the host, and the device allow-lists.
 */
export const MOUNT_NAMESPACE_DIRECTIVES = [
  "PrivateMounts", "PrivateTmp", "PrivateDevices", "ProtectSystem", "ProtectHome", "ReadOnlyPaths",
  "ReadWritePaths", "InaccessiblePaths", "ExecPaths", "NoExecPaths", "TemporaryFileSystem", "BindPaths",
  "BindReadOnlyPaths", "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs",
  "ProtectControlGroups", "ProtectHostname", "ProtectProc", "ProcSubset", "MountAPIVFS", "RootDirectory",
  "RootImage", "PrivateNetwork", "NetworkNamespacePath", "MountFlags",
];
