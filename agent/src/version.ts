// What `k8shost-agent --version` prints. Its own module so main.ts can answer
// without loading the command tree (the whole agent) first.
import { RELEASE_VERSION } from "@plasmacloud/common/version";

export const versionLine = (): string => `k8shost-agent ${RELEASE_VERSION} (node ${process.version})`;
