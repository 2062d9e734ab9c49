// `novanet --version`: the release and the CNI versions, as the reference
// plugins' about text. Apart from verbs/version.ts so the VERSION verb, which
// runtimes call often, loads nothing but the result types.
import { RELEASE_VERSION } from "@plasmacloud/common/version";
import { SUPPORTED_VERSIONS } from "../result.js";

export function about(): string {
  return `novanet ${RELEASE_VERSION}\nCNI protocol versions supported: ${SUPPORTED_VERSIONS.join(", ")}\n`;
}
