// VERSION: the versions this plugin speaks. Loads nothing else.
import { SUPPORTED_VERSIONS } from "../result.js";

export interface VersionResult { cniVersion: string; supportedVersions: string[] }

export function version(): VersionResult {
  return { cniVersion: "1.1.0", supportedVersions: [...SUPPORTED_VERSIONS] };
}
