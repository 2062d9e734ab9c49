// subPath: the mount's host path is the volume path plus subPath, created if
// missing, and it must stay inside the volume after every symlink is resolved.
import { existsSync, realpathSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { resolveExisting } from "./hostpath";
import { VolumeError } from "./types";

const inside = (p: string, base: string): boolean => p === base || p.startsWith(base + "/");

export async function resolveSubPath(base: string, subPath: string, volume: string): Promise<string> {
  const fail = (msg: string): VolumeError =>
    new VolumeError("PermissionDenied", "CreateContainerConfigError", `failed to prepare subPath '${subPath}' for volume "${volume}": ${msg}`, 10_000, { volume, subPath });
  if (subPath.startsWith("/") || subPath.split("/").includes("..")) throw fail("must be a relative path without '..'");
  const realBase = realpathSync(base);
  const full = join(base, subPath);
  // Check before creating: mkdir -p would follow a symlink planted in the volume.
  if (!inside(resolveExisting(full), realBase)) throw fail("resolves outside the volume");
  if (!existsSync(full)) await mkdir(full, { recursive: true, mode: 0o755 });
  const real = realpathSync(full);
  if (!inside(real, realBase)) throw fail("resolves outside the volume");
  // Bind the resolved path: a symlink swapped in later is not followed by the runtime.
  return real;
}
