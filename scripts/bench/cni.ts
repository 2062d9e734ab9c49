// CNI bench: ADD+DEL wall time of the bundled `novanet` executable (bridge
// mode, against an in-process NovaNET stand-in) versus the reference
// `bridge` + `host-local` plugins, interleaved in one run, each iteration in
// its own fresh netns. Node's own start-up (`node -e 0`) is measured in the
// same run because novanet pays it twice per ADD+DEL; the target is
// (novanet - 2 x node start-up) / reference <= 1.5.
// All processes get the same minimal environment (no NODE_OPTIONS or
// NODE_EXTRA_CA_CERTS, which would add tens of ms to every Node start).
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TokenStore } from "../../stand-ins/src/iam/tokens.js";
import { startNovanetStandIn } from "../../stand-ins/src/novanet/server.js";

const N = 50;
const repo = new URL("../..", import.meta.url).pathname;
const ENV = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };

function runOnce(cmd: string, args: string[], env: Record<string, string>, input: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { env: { ...ENV, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (b: Buffer) => { out += b.toString(); });
    child.stderr.on("data", () => undefined);
    child.stdin.on("error", () => undefined);
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) reject(new Error(`${cmd} ${env.CNI_COMMAND ?? ""}: exit ${code}: ${out}`));
      else resolve(ms);
    });
    child.stdin.end(input);
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function addDel(bin: string, conf: string, id: string, netns: string): Promise<number> {
  const env = { CNI_CONTAINERID: id, CNI_NETNS: netns, CNI_IFNAME: "eth0", CNI_PATH: "/usr/lib/cni" };
  const a = await runOnce(bin, [], { ...env, CNI_COMMAND: "ADD" }, conf);
  const d = await runOnce(bin, [], { ...env, CNI_COMMAND: "DEL" }, conf);
  return a + d;
}

export async function run(): Promise<void> {
  execFileSync("npm", ["run", "build", "-w", "cni-plugin"], { cwd: repo, stdio: ["ignore", "ignore", "inherit"] });
  const novanet = join(repo, "cni-plugin/dist/novanet");
  const dir = mkdtempSync(join(tmpdir(), "cni-bench-"));
  // The same bundle as a plain `#!/usr/bin/env node` script, to compare start-up.
  const script = join(dir, "novanet-script");
  writeFileSync(script, `#!/usr/bin/env node\n${readFileSync(join(repo, "cni-plugin/dist/novanet.cjs"), "utf8")}`);
  chmodSync(script, 0o755);
  writeFileSync(join(dir, "token"), "bench-token");
  const tokens = new TokenStore().add("bench-token", { name: "system:node:bench", kind: "node", orgId: "", projectId: "" });
  const subnet = `sn-bench-${process.pid}`;
  const standIn = await startNovanetStandIn({ tokens, subnets: [{ id: subnet, orgId: "org-bench", projectId: "proj-bench", cidr: "10.213.12.0/24" }] });
  const novanetConf = JSON.stringify({
    cniVersion: "1.0.0", name: "bench-novanet", type: "novanet", mode: "bridge",
    novanet: { server_addr: standIn.address, token_file: join(dir, "token") },
    org_id: "org-bench", project_id: "proj-bench", subnet_id: subnet, cacheDir: join(dir, "novanet-cache"),
  });
  const refConf = JSON.stringify({
    cniVersion: "1.0.0", name: "bench-ref", type: "bridge", bridge: "nvbenchref0", isGateway: true,
    ipam: { type: "host-local", subnet: "10.213.13.0/24", dataDir: join(dir, "host-local") },
  });
  const t = { novanet: [] as number[], ref: [] as number[], node: [] as number[], sea: [] as number[], script: [] as number[] };
  const ns = `nvbench-${process.pid}`;
  try {
    for (let i = 0; i < N; i++) {
      t.node.push(await runOnce(process.execPath, ["-e", "0"], {}, ""));
      t.sea.push(await runOnce(novanet, [], { CNI_COMMAND: "VERSION" }, ""));
      t.script.push(await runOnce(script, [], { CNI_COMMAND: "VERSION" }, ""));
      for (const [which, bin, conf] of [["novanet", novanet, novanetConf], ["ref", "/usr/lib/cni/bridge", refConf]] as const) {
        execFileSync("ip", ["netns", "add", ns]);
        try {
          t[which].push(await addDel(bin, conf, `bench-${which}-${i}`, `/var/run/netns/${ns}`));
        } finally {
          execFileSync("ip", ["netns", "del", ns]);
        }
      }
    }
  } finally {
    await standIn.stop();
    const brs = JSON.parse(execFileSync("ip", ["-j", "link", "show", "type", "bridge"]).toString()) as { ifname: string }[];
    const { bridgeName } = await import("../../cni-plugin/src/plumbing/names.js");
    for (const b of brs) if (b.ifname === "nvbenchref0" || b.ifname === bridgeName("nvbr", subnet)) execFileSync("ip", ["link", "del", b.ifname]);
    rmSync(dir, { recursive: true, force: true });
  }
  if (standIn.ports().length !== 0) throw new Error("bench: NovaNET ports left behind");
  const nv = median(t.novanet);
  const ref = median(t.ref);
  const node = median(t.node);
  const fmt = (x: number): string => `${x.toFixed(1)} ms`;
  const buildKind = readFileSync(join(repo, "cni-plugin/dist/BUILD_KIND"), "utf8").trim();
  console.log(`novanet ADD+DEL median (${buildKind}, n=${N}):        ${fmt(nv)}`);
  console.log(`reference bridge+host-local ADD+DEL median:     ${fmt(ref)}`);
  console.log(`node -e 0 start-up median:                      ${fmt(node)}`);
  console.log(`novanet VERSION: single executable ${fmt(median(t.sea))}, node script ${fmt(median(t.script))}`);
  console.log(`raw ratio novanet/reference:                    ${(nv / ref).toFixed(2)}`);
  const adj = (nv - 2 * node) / ref;
  console.log(`(novanet - 2 x node start-up)/reference:        ${adj.toFixed(2)} (target <= 1.5: ${adj <= 1.5 ? "met" : "NOT met"})`);
}
