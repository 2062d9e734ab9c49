// The stock floor's node: a second containerd, configured as a stock node
// would be, with the reference CNI plugins (bridge + host-local, then portmap
// as the node stack's conflist has it after novanet). Its own root, state,
// socket, CNI conf dir and IPAM dir; the one setting these machines need
// (restrict_oom_score_adj, see /work/shared/NODE-STACK.md). Started and
// stopped by the bench: close() leaves nothing (processes, shims, mounts,
// dirs, the bridge, the pod cgroups) and a crashed run's leftovers are
// cleared by the next start.
import { execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { credentials } from "@grpc/grpc-js";
import { ListPodSandboxRequest, RemovePodSandboxRequest, RuntimeServiceClient, StopPodSandboxRequest } from "@plasmacloud/proto/cri";
import { criCall } from "../../agent/test/helpers/cri";
import { removeBenchCgroups } from "./_floor";

const STACK = process.env.PLASMA_STACK_DIR ?? "/var/lib/plasmacloud-stack";
const RUN = process.env.PLASMA_RUN_DIR ?? "/run/plasmacloud-stack";
const REGISTRY = process.env.REGISTRY_ADDR ?? "127.0.0.1:5000";
const BRIDGE = "plstock0";
const SUBNET = "10.214.0.0/24";

export interface StockNode {
  socket: string;
  close(): Promise<void>;
}

const dirs = { data: join(STACK, "bench-stock"), run: join(RUN, "bench-stock") };
const socket = join(dirs.run, "containerd.sock");
const pidFile = join(dirs.run, "containerd.pid");

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (alive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  return !alive(pid);
}

/** The shims this containerd started (they outlive it by design); found by its socket on their command line. */
function shimPids(): number[] {
  return readdirSync("/proc").filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
      return argv[0]?.endsWith("containerd-shim-runc-v2") && argv.includes(socket);
    } catch {
      return false;
    }
  }).map(Number);
}

/** Stops whatever runs from our dirs and removes every trace of it. */
async function teardown(): Promise<void> {
  if (existsSync(socket)) {
    // Pods first, while containerd answers: their sandboxes hold netns (CNI DEL releases the address), mounts.
    const rt = new RuntimeServiceClient(`unix://${socket}`, credentials.createInsecure());
    try {
      const list = await criCall(rt, rt.listPodSandbox, ListPodSandboxRequest.fromPartial({}));
      await Promise.all(list.items.map(async (s) => {
        await criCall(rt, rt.stopPodSandbox, StopPodSandboxRequest.fromPartial({ podSandboxId: s.id }));
        await criCall(rt, rt.removePodSandbox, RemovePodSandboxRequest.fromPartial({ podSandboxId: s.id }));
      }));
    } catch {
      // not answering: what it held goes below, from outside
    } finally {
      rt.close();
    }
  }
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, "utf8"));
    if (pid > 0 && alive(pid)) {
      process.kill(pid, "SIGTERM");
      if (!(await waitGone(pid, 10_000))) process.kill(pid, "SIGKILL");
      await waitGone(pid, 5_000);
    }
  }
  for (const pid of shimPids()) {
    process.kill(pid, "SIGKILL");
    await waitGone(pid, 5_000);
  }
  // Mounts under our dirs (rootfs overlays, shm), deepest first.
  const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m.startsWith(`${dirs.data}/`) || m.startsWith(`${dirs.run}/`)).sort().reverse();
  for (const m of mounts) {
    try {
      execFileSync("umount", [m], { stdio: "ignore" });
    } catch {
      execFileSync("umount", ["-l", m], { stdio: "ignore" });
    }
  }
  rmSync(dirs.data, { recursive: true, force: true });
  rmSync(dirs.run, { recursive: true, force: true });
  try {
    execFileSync("ip", ["link", "del", BRIDGE], { stdio: "ignore" });
  } catch {
    // not there
  }
  await removeBenchCgroups();
}

function config(): string {
  return `version = 2
root = "${dirs.data}/root"
state = "${dirs.run}/state"
[grpc]
  address = "${socket}"
[plugins."io.containerd.internal.v1.opt"]
  path = "${dirs.data}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${REGISTRY}/plasmacloud/pause:1.0"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${dirs.data}/net.d"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "${STACK}/certs.d"
`;
}

const conflist = (): string => JSON.stringify({
  cniVersion: "1.0.0",
  name: "bench-stock",
  plugins: [
    { type: "bridge", bridge: BRIDGE, isGateway: true, ipMasq: false, ipam: { type: "host-local", ranges: [[{ subnet: SUBNET }]], routes: [{ dst: "0.0.0.0/0" }], dataDir: join(dirs.data, "ipam") } },
    { type: "portmap", capabilities: { portMappings: true } },
  ],
}, null, 2);

export async function startStockNode(): Promise<StockNode> {
  await teardown(); // a crashed run's leftovers
  mkdirSync(join(dirs.data, "net.d"), { recursive: true });
  mkdirSync(dirs.run, { recursive: true });
  writeFileSync(join(dirs.data, "containerd.toml"), config());
  writeFileSync(join(dirs.data, "net.d", "10-bench-stock.conflist"), conflist());
  const log = join(dirs.data, "containerd.log");
  const fd = openSync(log, "a");
  const child = spawn("containerd", ["--config", join(dirs.data, "containerd.toml")], { detached: true, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  child.unref();
  writeFileSync(pidFile, String(child.pid));
  const ok = (): boolean => {
    try {
      execFileSync("ctr", ["--address", socket, "--timeout", "2s", "version"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  };
  const end = Date.now() + 20_000;
  while (!ok()) {
    if (Date.now() > end || child.exitCode !== null) {
      const why = existsSync(log) ? readFileSync(log, "utf8").split("\n").slice(-5).join("\n") : "";
      await teardown();
      throw new Error(`bench: the stock containerd did not start:\n${why}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // The same images as the node stack's containerd, offline.
  for (const name of ["busybox", "pause"]) {
    execFileSync("ctr", ["--address", socket, "-n", "k8s.io", "images", "import", "--base-name", `${REGISTRY}/plasmacloud/${name}`, join(STACK, "images", `${name}.tar`)], { stdio: "ignore" });
  }
  return { socket, close: teardown };
}
