// Driver configuration from flags, then environment, then defaults; errors
// name the flag so a misconfigured DaemonSet/NixOS unit says what to fix.
import { parseArgs } from "node:util";
import { isAbsolute } from "node:path";
import { hostname } from "node:os";
import { defaultConfig, type DriverConfig } from "./driver";
import type { Level } from "@plasmacloud/common/log";

export class ConfigError extends Error {
  constructor(readonly flag: string, message: string) {
    super(`--${flag}: ${message}`);
    this.name = "ConfigError";
  }
}

export const USAGE = `lightningstor-csi [flags]
  --endpoint PATH            CSI socket (env CSI_ENDPOINT; unix:// prefix allowed)
  --node-id ID               node id reported by NodeGetInfo (env NODE_ID; default hostname)
  --driver-name NAME         default csi.lightningstor.plasmacloud.io
  --lightningstor-address A  host:port or unix:/path (env LIGHTNINGSTOR_ADDR) [required]
  --token-file PATH          file holding the bearer token (env LIGHTNINGSTOR_TOKEN_FILE) [required]
  --org-id ID --project-id ID  tenant (env K8SHOST_ORG_ID / K8SHOST_PROJECT_ID) [required]
  --state-dir PATH           staging records (env LIGHTNINGSTOR_CSI_STATE_DIR)
  --registry-dir PATH        plugin registry the agent watches; "" disables (env PLUGINS_REGISTRY_DIR)
  --max-volumes-per-node N   default 256
  --log-level L              debug|info|warn|error
  --version                  print the version and exit`;

// The levels the flag offers: the logger knows more (trace, fatal, silent),
// which a deployment has no use for.
const LOG_LEVELS = ["debug", "info", "warn", "error"] as const satisfies readonly Level[];
const isLogLevel = (s: string): s is (typeof LOG_LEVELS)[number] => (LOG_LEVELS as readonly string[]).includes(s);

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): { config: DriverConfig; logLevel: Level } {
  const { values } = parseArgs({
    args: argv,
    options: {
      endpoint: { type: "string" },
      "node-id": { type: "string" },
      "driver-name": { type: "string" },
      "lightningstor-address": { type: "string" },
      "token-file": { type: "string" },
      "org-id": { type: "string" },
      "project-id": { type: "string" },
      "state-dir": { type: "string" },
      "registry-dir": { type: "string" },
      "max-volumes-per-node": { type: "string" },
      "log-level": { type: "string" },
    },
    strict: true,
  });
  const d = defaultConfig();
  const pick = (flag: keyof typeof values, envName: string, fallback: string): string => {
    const v = values[flag];
    return typeof v === "string" ? v : env[envName] ?? fallback;
  };
  const endpoint = pick("endpoint", "CSI_ENDPOINT", d.endpoint).replace(/^unix:\/\//, "");
  const cfg: DriverConfig = {
    driverName: pick("driver-name", "CSI_DRIVER_NAME", d.driverName),
    nodeId: pick("node-id", "NODE_ID", "") || hostname(),
    endpoint,
    registryDir: pick("registry-dir", "PLUGINS_REGISTRY_DIR", d.registryDir),
    stateDir: pick("state-dir", "LIGHTNINGSTOR_CSI_STATE_DIR", d.stateDir),
    lightningstor: {
      address: pick("lightningstor-address", "LIGHTNINGSTOR_ADDR", ""),
      tokenFile: pick("token-file", "LIGHTNINGSTOR_TOKEN_FILE", ""),
      tenant: { orgId: pick("org-id", "K8SHOST_ORG_ID", ""), projectId: pick("project-id", "K8SHOST_PROJECT_ID", "") },
    },
    maxVolumesPerNode: Number(pick("max-volumes-per-node", "LIGHTNINGSTOR_CSI_MAX_VOLUMES", String(d.maxVolumesPerNode))),
  };
  if (!isAbsolute(cfg.endpoint)) throw new ConfigError("endpoint", "must be an absolute socket path");
  if (!/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,61}[a-zA-Z0-9])?$/.test(cfg.driverName)) throw new ConfigError("driver-name", "must be a DNS-style name of at most 63 characters");
  if (!cfg.lightningstor.address) throw new ConfigError("lightningstor-address", "is required");
  if (!cfg.lightningstor.tokenFile) throw new ConfigError("token-file", "is required");
  if (!cfg.lightningstor.tenant.orgId) throw new ConfigError("org-id", "is required");
  if (!cfg.lightningstor.tenant.projectId) throw new ConfigError("project-id", "is required");
  if (!isAbsolute(cfg.stateDir)) throw new ConfigError("state-dir", "must be an absolute path");
  if (cfg.registryDir && !isAbsolute(cfg.registryDir)) throw new ConfigError("registry-dir", "must be an absolute path");
  if (!Number.isInteger(cfg.maxVolumesPerNode) || cfg.maxVolumesPerNode < 0) throw new ConfigError("max-volumes-per-node", "must be an integer >= 0");
  const level = pick("log-level", "LOG_LEVEL", "info");
  if (!isLogLevel(level)) throw new ConfigError("log-level", "must be debug, info, warn or error");
  return { config: cfg, logLevel: level };
}
