import type { Runner } from "@plasmacloud/common/exec";
import type { Logger } from "@plasmacloud/common/log";
import type { Attachers } from "../attach";
import type { VolumeBackend } from "../lightningstor/client";
import type { DeviceReader, Mounter } from "../mount";
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
  /** Reads a device's first bytes (the filesystem probe); production: readDevice. */
  readDevice: DeviceReader;
}
