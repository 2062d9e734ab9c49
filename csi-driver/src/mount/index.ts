export { Mounter } from "./mounter";
export { canonicalPath, isReadOnly, mountAt, parseMountInfo, readMountInfo, type MountEntry } from "./mountinfo";
export { ensureFilesystem, makeFilesystem, probe, quickFsType, SUPPORTED_FS, type FsType, type Probe } from "./format";
export { growFilesystem } from "./resize";
export { filesystemUsage, type FsUsage } from "./stats";
