// hostPath: only below the node's allowed prefixes, checked on the resolved
// path (realpath of the deepest existing ancestor) so neither ".." nor a
// symlink can lead out; types checked like the kubelet's hostPath checker.
import type { HostPathVolumeSource } from "@plasmacloud/proto/k8shost";
import { existsSync, readlinkSync, realpathSync } from "node:fs";
import { lstat, mkdir, open, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { CodedError } from "@plasmacloud/common/errors";
import { VolumeError } from "./types";

const TYPES = ["", "DirectoryOrCreate", "Directory", "FileOrCreate", "File"];
const RETRY_MS = 5_000;

const under = (p: string, prefix: string): boolean => prefix === "/" || p === prefix || p.startsWith(prefix + "/");

/** The path with symlinks resolved as far as it exists; the missing tail is kept as written. */
export function resolveExisting(p: string): string {
  let head = resolve(p);
  const tail: string[] = [];
  for (let hops = 0; !existsSync(head) && head !== "/"; ) {
    const link = readlinkOrUndefined(head);
    if (link !== undefined) {
      // A dangling symlink: where it points is where a create would land.
      if (++hops > 40) throw new CodedError("InvalidArgument", `too many levels of symbolic links at ${head}`, { path: head });
      head = resolve(dirname(head), link);
      continue;
    }
    tail.unshift(basename(head));
    head = dirname(head);
  }
  return join(realpathSync(head), ...tail);
}

function readlinkOrUndefined(p: string): string | undefined {
  try {
    return readlinkSync(p);
  } catch {
    return undefined;
  }
}

export class HostPathPolicy {
  private readonly prefixes: { given: string; real: string }[];

  constructor(prefixes: string[]) {
    this.prefixes = prefixes.map((p) => ({ given: resolve(p), real: resolveExisting(p) }));
  }

  /** Why the source is refused, or undefined. Permanent problems only: the pod spec must change. */
  unsupported(s: HostPathVolumeSource): string | undefined {
    if (!TYPES.includes(s.type)) return `hostPath.type: '${s.type}' is not one of "", DirectoryOrCreate, Directory, FileOrCreate, File`;
    if (!isAbsolute(s.path)) return `hostPath.path: '${s.path}' must be absolute`;
    if (this.prefixes.length === 0) return `hostPath.path: '${s.path}' refused: hostPath volumes are disabled on this node (volumes.hostPathPrefixes is empty)`;
    const allowed = this.prefixes.map((p) => p.given).join(", ");
    if (s.path.split("/").includes("..")) return `hostPath.path: '${s.path}' must not contain '..'`;
    if (!this.prefixes.some((p) => under(resolve(s.path), p.given))) return `hostPath.path: '${s.path}' is not under an allowed prefix (${allowed})`;
    const real = resolveExisting(s.path);
    if (!this.prefixes.some((p) => under(real, p.real))) return `hostPath.path: '${s.path}' resolves to '${real}', outside the allowed prefixes (${allowed})`;
    return undefined;
  }

  /** Checks (and for *OrCreate makes) the path; returns the resolved path to bind. */
  async setUp(name: string, s: HostPathVolumeSource): Promise<string> {
    const problem = this.unsupported(s);
    if (problem) throw new VolumeError("PermissionDenied", "FailedMount", `MountVolume.SetUp failed for volume "${name}": ${problem}`, RETRY_MS, { path: s.path });
    const fail = (what: string): VolumeError => new VolumeError("NotFound", "FailedMount", `MountVolume.SetUp failed for volume "${name}": hostPath type check failed: ${s.path} ${what}`, RETRY_MS, { path: s.path, type: s.type });
    const st = await stat(s.path).catch(() => undefined);
    switch (s.type) {
      case "DirectoryOrCreate":
        if (!st) await mkdir(s.path, { recursive: true, mode: 0o755 });
        else if (!st.isDirectory()) throw fail("is not a directory");
        break;
      case "Directory":
        if (!st?.isDirectory()) throw fail(st ? "is not a directory" : "does not exist");
        break;
      case "FileOrCreate":
        if (!st) {
          // Like the kubelet: the parent must exist; O_EXCL never truncates a file that appeared meanwhile.
          const fh = await open(s.path, "wx", 0o644).catch((err: NodeJS.ErrnoException) => {
            if (err.code === "EEXIST") return undefined;
            throw fail(err.code === "ENOENT" ? "cannot be created: its parent directory does not exist" : `cannot be created: ${err.code}`);
          });
          await fh?.close();
        }
        if (!(await stat(s.path)).isFile()) throw fail("is not a file");
        break;
      case "File":
        if (!st?.isFile()) throw fail(st ? "is not a file" : "does not exist");
        break;
      default:
        break;
    }
    // Re-check after creation: a symlink may have been placed meanwhile.
    const again = this.unsupported(s);
    if (again) throw new VolumeError("PermissionDenied", "FailedMount", `MountVolume.SetUp failed for volume "${name}": ${again}`, RETRY_MS, { path: s.path });
    if (s.type === "" && !(await lstat(s.path).catch(() => undefined))) return resolveExisting(s.path); // the runtime creates it
    return realpathSync(s.path);
  }
}
