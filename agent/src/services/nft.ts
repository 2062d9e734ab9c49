// The one place that runs nft: read which chains, sets and maps the table
// holds (and how many rules and elements), apply a transaction from stdin (`nft -f -`: atomic, all or nothing),
// delete the table. Argument arrays only; the ruleset goes on stdin.
import { ExecError, run as defaultRun, type Runner } from "@plasmacloud/common/exec";
import type { Existing } from "./render";

interface NftJson {
  nftables?: Array<{ chain?: { name: string }; set?: { name: string; elem?: unknown[] }; map?: { name: string; elem?: unknown[] }; rule?: { chain: string } }>;
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
    const counts = { rules: new Map<string, number>(), elements: new Map<string, number>() };
    const e: Existing = { chains: new Set(), sets: new Map(), counts };
    for (const o of doc.nftables ?? []) {
      if (o.chain) e.chains.add(o.chain.name);
      else if (o.rule) counts.rules.set(o.rule.chain, (counts.rules.get(o.rule.chain) ?? 0) + 1);
      else if (o.set || o.map) {
        const s = (o.set ?? o.map)!;
        e.sets.set(s.name, o.set ? "set" : "map");
        if (s.elem?.length) counts.elements.set(s.name, s.elem.length);
      }
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
