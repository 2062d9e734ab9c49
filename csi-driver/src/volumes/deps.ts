import type { Attachers } from "../attach";
import type { Runner } from "../exec";
import type { VolumeBackend } from "../lightningstor/client";
import type { Logger } from "../log";
import type { Mounter } from "../mount";
import type { StagingRecords } from "./records";

/** What the node-side volume logic needs; injected so tests can observe it. */
export interface NodeDeps {
  nodeId: string;
  backend: VolumeBackend;
  attachers: Attachers;
  mounter: Mounter;
  records: StagingRecords;
  log: Logger;
  exec: Runner;
}
