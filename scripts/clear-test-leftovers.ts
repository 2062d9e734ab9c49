// Removes the pods an interrupted earlier test run left on the node stack.
//   node --import tsx scripts/clear-test-leftovers.ts
// A test cluster's pods go with its teardown; a run killed before that (a
// machine snapshotted mid-run, ^C) leaves sandboxes that still hold their pod
// IPs on the test bridges. Each test cluster starts a NovaNET stand-in with an
// empty pool, so its first pod gets the same address again and ARP flaps
// between the two: Services and probes then fail at random. Only the
// sandboxes of test nodes (`it-<hex>`, agent/test/helpers/cluster.ts) go, the
// runtime's way (CRI stop + remove), with a NovaNET stand-in answering the
// CNI DEL containerd runs, so netns, veths and OVS ports go with them. First
// the agents such a run left orphaned: they would make their pods again.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { TokenStore } from "../stand-ins/src/iam/tokens";
import { startNovanetStandIn } from "../stand-ins/src/novanet/server";
import { allSandboxes, purgeSandbox } from "../agent/test/helpers/cri";

const STACK_DIR = process.env.PLASMA_STACK_DIR ?? "/var/lib/plasmacloud-stack";
const NOVANET_ADDR = process.env.NOVANET_ADDR ?? "127.0.0.1:19696";

/** The node names the test helper gives its clusters. */
export const isTestNode = (node: string): boolean => /^it-[0-9a-f]{8}$/.test(node);

export interface Leftover { id: string; node: string; pod: string }

/** A test cluster's agent: `... run --config <tmp>/agent-it-XXXX/agent.yaml` (agent/test/helpers/cluster.ts). */
const TEST_AGENT_CONFIG = /\/agent-it-[A-Za-z0-9]+\/agent\.yaml$/;

interface TestAgent { pid: number; config: string; orphan: boolean }

/** State and parent of a process from /proc (the fields after the parenthesised command name); undefined once gone. */
function procStat(pid: number, proc = "/proc"): { state: string; ppid: string } | undefined {
  try {
    const stat = readFileSync(`${proc}/${pid}/stat`, "utf8");
    const [state = "", ppid = ""] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state, ppid };
  } catch {
    return undefined;
  }
}

/** Running, not a zombie waiting for init to reap it. */
export const running = (pid: number): boolean => (procStat(pid)?.state ?? "Z") !== "Z";

function testAgents(proc = "/proc"): TestAgent[] {
  const found: TestAgent[] = [];
  for (const name of readdirSync(proc)) {
    if (!/^\d+$/.test(name)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`${proc}/${name}/cmdline`, "utf8").split("\0");
    } catch {
      continue; // gone meanwhile
    }
    const config = argv[argv.indexOf("--config") + 1] ?? "";
    const st = procStat(Number(name), proc);
    if (!argv.includes("run") || !TEST_AGENT_CONFIG.test(config) || !st || st.state === "Z") continue;
    found.push({ pid: Number(name), config, orphan: st.ppid === "1" });
  }
  return found;
}

/** Test agents whose test process is gone (re-parented to init): nothing will stop them. */
export const orphanTestAgents = (proc = "/proc"): number[] => testAgents(proc).filter((a) => a.orphan).map((a) => a.pid);

/** Nodes of test clusters whose test process still runs (another run in progress): theirs are not leftovers. */
function liveTestNodes(): Set<string> {
  const nodes = new Set<string>();
  for (const a of testAgents().filter((x) => !x.orphan)) {
    try {
      const m = /^nodeName: (\S+)$/m.exec(readFileSync(a.config, "utf8"));
      if (m) nodes.add(m[1]!);
    } catch {
      // its config went with its test: it is stopping
    }
  }
  return nodes;
}

async function killAll(pids: number[]): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (let i = 0; i < 100 && pids.some(running); i++) await new Promise((r) => setTimeout(r, 50));
}

/** Sandboxes of test nodes without a live test, as containerd lists them. */
export async function testLeftovers(): Promise<Leftover[]> {
  const live = liveTestNodes();
  return (await allSandboxes())
    .map((s) => ({ id: s.id, node: s.labels["plasmacloud.io/node"] ?? "", pod: `${s.metadata?.namespace ?? ""}/${s.metadata?.name ?? ""}` }))
    .filter((s) => isTestNode(s.node) && !live.has(s.node));
}

/** Kills orphaned test agents, then removes test sandboxes; returns what went. Fails if a sandbox stays (its network could not be released). */
export async function clearTestLeftovers(): Promise<{ agents: number[]; sandboxes: Leftover[] }> {
  const agents = orphanTestAgents();
  await killAll(agents);
  const found = await testLeftovers();
  if (found.length === 0) return { agents, sandboxes: [] };
  // containerd's CNI DEL asks the node's NovaNET endpoint; with none there it fails and the sandbox stays.
  const tokens = new TokenStore().add(readFileSync(join(STACK_DIR, "novanet.token"), "utf8").trim(), { name: "system:node:leftovers:cni", kind: "node", orgId: "", projectId: "", nodeName: "leftovers" });
  const novanet = await startNovanetStandIn({ tokens, subnets: [], address: NOVANET_ADDR });
  try {
    for (const s of found) await purgeSandbox(s.id);
  } finally {
    await novanet.stop();
  }
  const left = new Set((await testLeftovers()).map((s) => s.id));
  const stuck = found.filter((s) => left.has(s.id));
  if (stuck.length) throw new Error(`clear-test-leftovers: could not remove sandboxes ${stuck.map((s) => `${s.id.slice(0, 12)} (${s.pod} on ${s.node})`).join(", ")}`);
  return { agents, sandboxes: found };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  clearTestLeftovers().then(
    (gone) => {
      for (const pid of gone.agents) console.log(`clear-test-leftovers: killed orphaned test agent ${pid}`);
      for (const s of gone.sandboxes) console.log(`clear-test-leftovers: removed sandbox ${s.id.slice(0, 12)} of ${s.pod} (node ${s.node}, left by an earlier run)`);
      process.exit(0); // the CRI channel would keep the process alive
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    },
  );
}
