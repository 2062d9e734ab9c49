// CNI bench: novanet as each kind of executable scripts/build.mjs can make
// (and the revision before issue #12's trimming, packaged two ways) against
// the reference `bridge` + `host-local` plugins, all in ONE run: VERSION
// start-up and ADD+DEL wall time (bridge mode, against an in-process NovaNET
// stand-in), each ADD+DEL in its own fresh netns. Every iteration measures
// every candidate, the reference and `node -e 0` back to back, in a shuffled
// order, so a machine that speeds up or slows down during the run moves all
// of them alike; the ratio to the reference is taken within each iteration.
// Every figure is min / median / max over the iterations.
// Target (issue #12): the shipped novanet's ADD+DEL, raw, <= 1.5 x the
// reference's, medians of the same run.
// All processes get the same minimal environment (no NODE_OPTIONS or
// NODE_EXTRA_CA_CERTS, which would add tens of ms to every Node start).
// NOVANET_BENCH_N sets the iterations (default 50). NOVANET_BENCH_MODE=ovs runs
// novanet in ovs mode on the node stack's br-int (scripts/node-stack/up.sh first);
// NOVANET_BENCH_EXTRA=label=/path/to/novanet[,...] adds executables to compare
// (e.g. a build from before a change), measured like the others.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TokenStore } from "../../stand-ins/src/iam/tokens.js";
import { startNovanetStandIn } from "../../stand-ins/src/novanet/server.js";

const N = Number(process.env.NOVANET_BENCH_N ?? 50);
const MODE = process.env.NOVANET_BENCH_MODE ?? "bridge";
if (MODE !== "bridge" && MODE !== "ovs") throw new Error(`NOVANET_BENCH_MODE: expected bridge or ovs, got ${MODE}`);
const OVSDB = `unix:${process.env.PLASMA_RUN_DIR ?? "/run/plasmacloud-stack"}/ovs/db.sock`;
const repo = new URL("../..", import.meta.url).pathname;
const plugin = join(repo, "cni-plugin");
const ENV = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
/** The last revision of cni-plugin/src before issue #12 (generated codec, node:http2, child_process). */
const BASELINE = "6b5e0bef8d3308f36771837c85b637f768eacb46";

function runOnce(cmd: string, args: string[], env: Record<string, string>, input: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { env: { ...ENV, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.stdout.on("data", (b: Buffer) => { out += b.toString(); });
    child.stderr.on("data", () => undefined);
    child.stdin.on("error", () => undefined);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) reject(new Error(`${cmd} ${env.CNI_COMMAND ?? ""}: exit ${code}: ${out}`));
      else resolve(ms);
    });
    child.stdin.end(input);
  });
}

const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
function median(xs: number[]): number {
  const s = sorted(xs);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}
/** "min / median / max" */
function mmm(xs: number[], digits = 1): string {
  if (!xs.length) return "-";
  const s = sorted(xs);
  return `${(s[0] as number).toFixed(digits)} / ${median(xs).toFixed(digits)} / ${(s[s.length - 1] as number).toFixed(digits)}`;
}

/**
 * The steps of one iteration in a fresh order (seeded: the same every run).
 * Not a rotation: what ran just before matters (a netns deleted a moment
 * earlier is still being torn down by the kernel and slows the next veth
 * deletion), so every step must follow every other equally often, not the
 * reference always after `node -e 0`.
 */
function shuffled<T>(xs: T[], seed: number): T[] {
  const out = [...xs];
  let r = seed * 2654435761 % 2 ** 32;
  for (let k = out.length - 1; k > 0; k--) {
    r = (r * 1664525 + 1013904223) % 2 ** 32;
    const j = r % (k + 1);
    [out[k], out[j]] = [out[j] as T, out[k] as T];
  }
  return out;
}

interface Candidate { label: string; bin: string; size: string; version: number[]; addDel: number[]; ratio: number[] }

function buildKind(kind: string, out: string, bundle?: string): void {
  execFileSync(process.execPath, [join(plugin, "scripts/build.mjs")], {
    cwd: repo, stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, NOVANET_BUILD: kind, NOVANET_OUT: out, ...(bundle ? { NOVANET_BUNDLE: bundle } : {}) },
  });
}

/** The bundle of cni-plugin as of BASELINE (its own build script, today's common/ and proto/), or why not. */
function baselineBundle(): string | string[] {
  const dir = join(plugin, "dist/bench-baseline");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    const tar = execFileSync("git", ["-C", repo, "archive", BASELINE, "cni-plugin/src", "cni-plugin/scripts/build.mjs"]);
    execFileSync("tar", ["-x", "-C", dir], { input: tar });
    const build = join(dir, "cni-plugin/scripts/build.mjs");
    execFileSync(process.execPath, [build], { cwd: repo, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, NOVANET_BUILD: "script" } });
    return join(dir, "cni-plugin/dist/novanet.cjs");
  } catch (e) {
    return [`baseline ${BASELINE.slice(0, 7)} not measured: ${(e as Error).message.split("\n")[0]}`];
  }
}

export async function run(): Promise<void> {
  // What ships: dist/novanet, as up.sh installs it.
  execFileSync("npm", ["run", "build", "-w", "cni-plugin"], { cwd: repo, stdio: ["ignore", "ignore", "inherit"] });
  const shipped = readFileSync(join(plugin, "dist/BUILD_KIND"), "utf8").trim();
  const dir = mkdtempSync(join(tmpdir(), "cni-bench-"));
  const candidates: Candidate[] = [];
  const notes: string[] = [];
  const add = (label: string, bin: string): void => {
    const bytes = statSync(bin).size;
    const size = bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${(bytes / 2 ** 10).toFixed(0)} KiB + node`;
    candidates.push({ label, bin, size, version: [], addDel: [], ratio: [] });
  };
  add(`${shipped} (shipped dist/novanet)`, join(plugin, "dist/novanet"));
  const kinds: [string, string][] = [["bun", "bun build --compile --bytecode"], ["sea", "Node SEA, code cache"],
    ["sea-snapshot", "Node SEA, start-up snapshot"], ["script", "node + bundle script"]];
  for (const [kind, what] of kinds) {
    if (kind === shipped) continue;
    const out = join(dir, `novanet-${kind}`);
    try {
      buildKind(kind, out);
      add(`${kind} (${what})`, out);
    } catch (e) {
      notes.push(`${kind}: not built here: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  const base = baselineBundle();
  if (typeof base === "string") {
    for (const kind of ["sea", "bun"]) {
      const out = join(dir, `baseline-${kind}`);
      try {
        buildKind(kind, out, base);
        add(`before #12 (${BASELINE.slice(0, 7)}) as ${kind}${kind === "sea" ? ", as shipped then" : ""}`, out);
      } catch (e) {
        notes.push(`baseline ${kind}: not built: ${(e as Error).message.split("\n")[0]}`);
      }
    }
  } else notes.push(...base);
  for (const spec of (process.env.NOVANET_BENCH_EXTRA ?? "").split(",").filter(Boolean)) {
    const eq = spec.indexOf("=");
    if (eq < 1) throw new Error(`NOVANET_BENCH_EXTRA: expected label=path, got ${spec}`);
    add(spec.slice(0, eq), spec.slice(eq + 1));
  }

  writeFileSync(join(dir, "token"), "bench-token");
  const tokens = new TokenStore().add("bench-token", { name: "system:node:bench", kind: "node", orgId: "", projectId: "" });
  const subnet = `sn-bench-${process.pid}`;
  const standIn = await startNovanetStandIn({ tokens, subnets: [{ id: subnet, orgId: "org-bench", projectId: "proj-bench", cidr: "10.213.12.0/24" }] });
  const conf = (cacheDir: string): string => JSON.stringify({
    cniVersion: "1.0.0", name: "bench-novanet", type: "novanet", mode: MODE, ...(MODE === "ovs" ? { ovsdb: OVSDB } : {}),
    novanet: { server_addr: standIn.address, token_file: join(dir, "token") },
    org_id: "org-bench", project_id: "proj-bench", subnet_id: subnet, cacheDir,
  });
  const refConf = JSON.stringify({
    cniVersion: "1.0.0", name: "bench-ref", type: "bridge", bridge: "nvbenchref0", isGateway: true,
    ipam: { type: "host-local", subnet: "10.213.13.0/24", dataDir: join(dir, "host-local") },
  });
  const node: number[] = [];
  const ref: number[] = [];
  const ns = `nvbench-${process.pid}`;
  const addDel = async (bin: string, input: string, id: string): Promise<number> => {
    execFileSync("ip", ["netns", "add", ns]);
    try {
      const env = { CNI_CONTAINERID: id, CNI_NETNS: `/var/run/netns/${ns}`, CNI_IFNAME: "eth0", CNI_PATH: "/usr/lib/cni" };
      const a = await runOnce(bin, [], { ...env, CNI_COMMAND: "ADD" }, input);
      return a + await runOnce(bin, [], { ...env, CNI_COMMAND: "DEL" }, input);
    } finally {
      execFileSync("ip", ["netns", "del", ns]);
    }
  };
  try {
    // Iteration -1 warms caches (and creates both bridges); it is not counted.
    for (let i = -1; i < N; i++) {
      const it: { ref?: number; nv: Map<Candidate, number> } = { nv: new Map() };
      const steps: (() => Promise<void>)[] = [
        async () => { const t = await runOnce(process.execPath, ["-e", "0"], {}, ""); if (i >= 0) node.push(t); },
        async () => { it.ref = await addDel("/usr/lib/cni/bridge", refConf, `bench-ref-${i}`); },
        ...candidates.map((c, k) => async () => {
          const v = await runOnce(c.bin, [], { CNI_COMMAND: "VERSION" }, "");
          const t = await addDel(c.bin, conf(join(dir, `cache-${k}`)), `bench-${k}-${i}`);
          if (i >= 0) c.version.push(v);
          it.nv.set(c, t);
        }),
      ];
      for (const s of shuffled(steps, i + 2)) await s();
      if (i < 0) continue;
      ref.push(it.ref as number);
      for (const [c, t] of it.nv) {
        c.addDel.push(t);
        c.ratio.push(t / (it.ref as number));
      }
    }
  } finally {
    await standIn.stop();
    const brs = JSON.parse(execFileSync("ip", ["-j", "link", "show", "type", "bridge"]).toString()) as { ifname: string }[];
    const { bridgeName } = await import("../../cni-plugin/src/plumbing/names.js");
    for (const b of brs) if (b.ifname === "nvbenchref0" || b.ifname === bridgeName("nvbr", subnet)) execFileSync("ip", ["link", "del", b.ifname]);
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(plugin, "dist/bench-baseline"), { recursive: true, force: true });
  }
  if (standIn.ports().length !== 0) throw new Error("bench: NovaNET ports left behind");

  const rows: string[][] = [
    ["", "VERSION ms", "ADD+DEL ms (raw)", "ADD+DEL / reference", "size"],
    ["node -e 0 (this machine's Node start-up)", mmm(node), "", "", ""],
    ["reference bridge + host-local", "", mmm(ref), "1", ""],
    ...candidates.map((c) => [`novanet ${c.label}`, mmm(c.version), mmm(c.addDel), mmm(c.ratio, 2), c.size]),
  ];
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  console.log(`cni bench: ${N} iterations, novanet in ${MODE} mode, each measuring everything below once (order shuffled); min / median / max`);
  for (const r of rows) console.log(r.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]!) : cell.padStart(widths[j]!))).join("   "));
  for (const n of notes) console.log(`note: ${n}`);
  const ship = candidates[0] as Candidate;
  const raw = median(ship.addDel) / median(ref);
  console.log(`target: shipped novanet ADD+DEL raw median / reference median = ${raw.toFixed(2)} (<= 1.5: ${raw <= 1.5 ? "met" : "NOT met"}); `
    + `per-iteration ratio ${mmm(ship.ratio, 2)}`);
}
