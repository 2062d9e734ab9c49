// Reads the YAML config file and applies command-line overrides on top.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { CodedError, errorMessage } from "@plasmacloud/common/errors";
import { buildConfig, type AgentConfig } from "./schema";

export interface ConfigOverrides {
  nodeName?: string;
  controlPlaneAddress?: string;
  tokenFile?: string;
  runtimeEndpoint?: string;
  rootDir?: string;
  logLevel?: string;
  healthzPort?: number;
}

export function loadConfig(file: string | undefined, o: ConfigOverrides = {}): AgentConfig {
  let fromFile: unknown;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new CodedError("InvalidArgument", `cannot read config file ${file}: ${errorMessage(err)}`, { file });
    }
    try {
      fromFile = parse(text) ?? {};
    } catch (err) {
      throw new CodedError("InvalidArgument", `config file ${file} is not valid YAML: ${errorMessage(err)}`, { file });
    }
  }
  const flags: Record<string, unknown> = {};
  if (o.nodeName !== undefined) flags.nodeName = o.nodeName;
  if (o.rootDir !== undefined) flags.rootDir = o.rootDir;
  if (o.logLevel !== undefined) flags.logLevel = o.logLevel;
  const cp: Record<string, unknown> = {};
  if (o.controlPlaneAddress !== undefined) cp.address = o.controlPlaneAddress;
  if (o.tokenFile !== undefined) cp.tokenFile = o.tokenFile;
  if (Object.keys(cp).length) flags.controlPlane = cp;
  if (o.runtimeEndpoint !== undefined) flags.runtime = { endpoint: o.runtimeEndpoint };
  if (o.healthzPort !== undefined) flags.healthz = { port: o.healthzPort };
  return buildConfig(fromFile, flags);
}
