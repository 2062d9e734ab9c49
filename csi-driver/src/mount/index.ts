// The mount table itself is read with @plasmacloud/common/mountinfo.
export { Mounter } from "./mounter";
export { ensureFilesystem, makeFilesystem, probe, quickFsType, readDevice, SUPPORTED_FS, type DeviceReader, type FsType, type Probe } from "./format";
export { growFilesystem } from "./resize";
export { filesystemUsage, type FsUsage } from "./stats";
