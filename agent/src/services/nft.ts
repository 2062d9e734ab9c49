// The one place that runs nft: read which chains, sets and maps the table
// holds, apply a transaction from stdin (`nft -f -`: atomic, all or nothing),
// delete the table. Argument arrays only; the ruleset goes on stdin.
import { ExecError, run as defaultRun, type Runner } from "@plasmacloud/common/exec";
import type { Existing } from "./render";

interface NftJson {
  nftables?: Array<{ chain?: { name: string }; set?: { name: string }; map?: { name: string } }>;
}

export class NftTable {
  constructor(readonly table: string, private readonly run: Runner = defaultRun, private readonly timeoutMs = 30_000) {}

  /** What the table holds now; undefined when there is no such table. */
  async existing(): Promise<Existing | undefined> {
    let out: string;
    try {
      out = (await this.run("nft", ["-j", "list", "table", "ip", this.table], { timeoutMs: this.timeoutMs })).stdout;
    } catch (err) {
      if (err instanceof ExecError && err.reason === "exit" && /No such file or directory/.test(err.stderr)) return undefined;
      throw err;
    }
    const doc = JSON.parse(out) as NftJson;
    const e: Existing = { chains: new Set(), sets: new Map() };
    for (const o of doc.nftables ?? []) {
      if (o.chain) e.chains.add(o.chain.name);
      else if (o.set) e.sets.set(o.set.name, "set");
      else if (o.map) e.sets.set(o.map.name, "map");
    }
    return e;
  }

  async apply(transaction: string): Promise<void> {
    await this.run("nft", ["-f", "-"], { input: transaction, timeoutMs: this.timeoutMs, context: { table: this.table } });
  }

  /** Removes the table if it is there; true if it was. */
  async remove(): Promise<boolean> {
    if (!(await this.existing())) return false;
    await this.run("nft", ["delete", "table", "ip", this.table], { timeoutMs: this.timeoutMs });
    return true;
  }
}
