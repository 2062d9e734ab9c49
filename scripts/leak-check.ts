// What a test run leaves behind, seen from outside the programs under test:
// containerd's containers and sandboxes, network namespaces, links, OVS ports,
// iptables chains, nftables tables, loop devices, mounts, state and temp files, processes.
//   node --import tsx scripts/leak-check.ts snapshot FILE   record the host as it is
//   node --import tsx scripts/leak-check.ts compare FILE    list what is new since; exit 1 if anything
// A diff against the state before the run, so a developer machine with other
// work on it is judged only on what this run added.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const STACK = process.env.PLASMA_STACK_DIR ?? "/var/lib/plasmacloud-stack";
const RUN = process.env.PLASMA_RUN_DIR ?? "/run/plasmacloud-stack";
const SOCK = process.env.CONTAINERD_SOCK ?? `${RUN}/containerd.sock`;
const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

type Snapshot = Record<string, string[]>;

function out(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 30_000 });
  } catch {
    return "";
  }
}
const lines = (s: string): string[] => s.split("\n").map((l) => l.trim()).filter(Boolean);
const list = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).map((n) => join(dir, n)) : []);

interface IpLink { ifname: string; linkinfo?: { info_kind?: string } }

function take(): Snapshot {
  const ctr = (what: string[]): string[] => lines(out("ctr", ["--address", SOCK, "-n", "k8s.io", ...what, "-q"]));
  const links = (JSON.parse(out("ip", ["-j", "-d", "link", "show"]) || "[]") as IpLink[])
    // novanet's bridge-mode subnet bridges are node infrastructure kept for the
    // next pod, as the reference bridge plugin keeps cni0.
    .filter((l) => !(l.linkinfo?.info_kind === "bridge" && l.ifname.startsWith("nvbr")))
    .map((l) => `${l.ifname} (${l.linkinfo?.info_kind ?? "device"})`);
  const ovsdb = `unix:${RUN}/ovs/db.sock`;
  const ovsPorts = lines(out("ovs-vsctl", [`--db=${ovsdb}`, "--timeout=5", "list-br"])).flatMap((br) =>
    lines(out("ovs-vsctl", [`--db=${ovsdb}`, "--timeout=5", "list-ports", br])).map((p) => `${br}: ${p}`));
  // Per-attachment chains only: portmap's CNI-HOSTPORT-* chains are global and stay.
  const chains = ["nat", "filter"].flatMap((t) =>
    lines(out("iptables-save", ["-t", t])).filter((l) => l.startsWith(":") && !l.startsWith(":CNI-HOSTPORT-")).map((l) => `${t} ${l.slice(1).split(" ")[0]}`));
  const loops = lines(out("losetup", ["-a", "-n", "-O", "NAME,BACK-FILE"]));
  // Mount point and type, numbered when stacked, so a second mount on one path counts.
  const seen = new Map<string, number>();
  const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter(Boolean).map((l) => {
    const f = l.split(" ");
    const key = `${f[4]} (${f[f.indexOf("-", 6) + 1]})`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return n > 1 ? `${key} #${n}` : key;
  });
  const procs = readdirSync("/proc").filter((p) => /^\d+$/.test(p) && p !== String(process.pid)).flatMap((pid) => {
    let cmd = "";
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
    } catch {
      return [];
    }
    // Programs of this repository (agent, stand-ins, CSI driver, test children), not the runner itself.
    const ours = cmd.includes(REPO) || /k8shost-agent|lightningstor-csi|\/novanet(\s|$)/.test(cmd);
    return ours && !/scripts\/(run-tests\.mjs|leak-check\.ts)|--test\b|\bnpm\b/.test(cmd) ? [`${pid} ${cmd.slice(0, 200)}`] : [];
  });
  return {
    "containerd containers and sandboxes": ctr(["containers", "ls"]),
    "containerd tasks": ctr(["tasks", "ls"]),
    "network namespaces": lines(out("ip", ["netns", "list"])).map((l) => l.split(" ")[0] ?? l),
    "host links": links,
    "OVS ports": ovsPorts,
    "iptables chains": chains,
    // Tables the agent's service proxy (or anything else under test) adds.
    "nftables tables": lines(out("nft", ["list", "tables"])),
    "loop devices": loops,
    mounts,
    "CNI result cache": [...list("/var/lib/cni/results"), ...list(join(STACK, "cni/cache"))],
    "node stack state": [...list(STACK), ...list(RUN), ...list(join(STACK, "cni/net.d"))],
    // Kept on purpose: the agent tests' logs (post-mortem of a failed run), flock files, this check's own snapshot.
    "temp files": list(tmpdir()).filter((p) => !/\/(agent-it-logs|[\w-]+\.lock|leak-snapshot-\d+\.json)$/.test(p)),
    processes: procs,
  };
}

/** Entries of `after` that were not in `before` (a pid that changed command counts as new). */
function added(before: Snapshot, after: Snapshot): [string, string[]][] {
  return Object.entries(after).map(([k, v]) => {
    const had = new Set(before[k] ?? []);
    return [k, v.filter((x) => !had.has(x))] as [string, string[]];
  }).filter(([, v]) => v.length > 0);
}

const [verb, file] = process.argv.slice(2);
if (!file || (verb !== "snapshot" && verb !== "compare")) {
  console.error("usage: leak-check.ts snapshot|compare FILE");
  process.exit(2);
}
if (verb === "snapshot") {
  writeFileSync(file, JSON.stringify(take()));
} else {
  const before = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  // Teardown of the last test (a sandbox stop, a shim exit) may trail its
  // assertion by a moment: look again for a few seconds before calling it a leak.
  let left = added(before, take());
  for (let i = 0; i < 10 && left.length; i++) {
    execFileSync("sleep", ["1"]);
    left = added(before, take());
  }
  if (left.length) {
    console.error("leak check: the test run left these behind:");
    for (const [k, v] of left) console.error(`  ${k}:\n${v.map((x) => `    ${x}`).join("\n")}`);
    process.exit(1);
  }
  console.log(`leak check: nothing left behind (${Object.keys(before).join(", ")})`);
}
