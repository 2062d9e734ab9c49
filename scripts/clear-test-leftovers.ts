// Removes the pods an interrupted earlier test run left on the node stack.
//   node --import tsx scripts/clear-test-leftovers.ts
// A test cluster's pods go with its teardown; a run killed before that (a
// machine snapshotted mid-run, ^C) leaves sandboxes that still hold their pod
// IPs on the test bridges. Each test cluster starts a NovaNET stand-in with an
// empty pool, so its first pod gets the same address again and ARP flaps
// between the two: Services and probes then fail at random. Only the
// sandboxes of test nodes (`it-<hex>`, agent/test/helpers/cluster.ts) go, the
// runtime's way (CRI stop + remove), with a NovaNET stand-in answering the
// CNI DEL containerd runs, so netns, veths and OVS ports go with them.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TokenStore } from "../stand-ins/src/iam/tokens";
import { startNovanetStandIn } from "../stand-ins/src/novanet/server";
import { allSandboxes, purgeSandbox } from "../agent/test/helpers/cri";

const STACK_DIR = process.env.PLASMA_STACK_DIR ?? "/var/lib/plasmacloud-stack";
const NOVANET_ADDR = process.env.NOVANET_ADDR ?? "127.0.0.1:19696";

/** The node names the test helper gives its clusters. */
export const isTestNode = (node: string): boolean => /^it-[0-9a-f]{8}$/.test(node);

export interface Leftover { id: string; node: string; pod: string }

/** Sandboxes of test nodes, as containerd lists them. */
export async function testLeftovers(): Promise<Leftover[]> {
  return (await allSandboxes())
    .map((s) => ({ id: s.id, node: s.labels["plasmacloud.io/node"] ?? "", pod: `${s.metadata?.namespace ?? ""}/${s.metadata?.name ?? ""}` }))
    .filter((s) => isTestNode(s.node));
}

/** Removes them; returns what went. Fails if one stays (its network could not be released). */
export async function clearTestLeftovers(): Promise<Leftover[]> {
  const found = await testLeftovers();
  if (found.length === 0) return [];
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
  return found;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  clearTestLeftovers().then(
    (gone) => {
      for (const s of gone) console.log(`clear-test-leftovers: removed sandbox ${s.id.slice(0, 12)} of ${s.pod} (node ${s.node}, left by an earlier run)`);
      process.exit(0); // the CRI channel would keep the process alive
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    },
  );
}
