// VERSION: the versions this plugin speaks. Loads nothing else.
import { RELEASE_VERSION } from "@plasmacloud/common/version";
import { SUPPORTED_VERSIONS } from "../result.js";

export interface VersionResult { cniVersion: string; supportedVersions: string[] }

export function version(): VersionResult {
  return { cniVersion: "1.1.0", supportedVersions: [...SUPPORTED_VERSIONS] };
}

/** `novanet --version`: the release and the CNI versions, as the reference plugins' about text. */
export function about(): string {
  return `novanet ${RELEASE_VERSION}\nCNI protocol versions supported: ${SUPPORTED_VERSIONS.join(", ")}\n`;
}
