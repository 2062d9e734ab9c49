// A NovaNET stand-in per test file, with a token file and network-config
// builder for the plugin. Tests may import stand-ins/; product code never does.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TokenStore } from "../../../stand-ins/src/iam/tokens.js";
import { startNovanetStandIn, type NovanetStandIn, type NovanetStandInOptions } from "../../../stand-ins/src/novanet/server.js";
import type { SubnetInput } from "../../../stand-ins/src/novanet/store.js";
import type { OvnOptions } from "../../../stand-ins/src/novanet/ovn.js";

export const NODE_TOKEN = "node-token-for-cni-tests";

export interface Fixture {
  novanet: NovanetStandIn;
  dir: string;
  tokenFile: string;
  cacheDir: string;
  /** A network config for the plugin; `extra` is merged on top. */
  conf(extra?: Record<string, unknown>): Record<string, unknown>;
  close(): Promise<void>;
}

/** `ovn`: the stand-in programs OVN northbound too (its objects go when it stops); `management`: with the node management network. */
export async function startFixture(subnets: SubnetInput[], opts: { tokens?: TokenStore; ovn?: OvnOptions; management?: NovanetStandInOptions["management"] } = {}): Promise<Fixture> {
  const tokens = opts.tokens ?? new TokenStore();
  tokens.add(NODE_TOKEN, { name: "system:node:test", kind: "node", orgId: "", projectId: "", nodeName: "test" });
  const novanet = await startNovanetStandIn({ tokens, subnets, ovn: opts.ovn, management: opts.management });
  const dir = mkdtempSync(join(tmpdir(), "novanet-test-"));
  const tokenFile = join(dir, "token");
  writeFileSync(tokenFile, `${NODE_TOKEN}\n`, { mode: 0o600 });
  const cacheDir = join(dir, "results");
  const first = subnets[0];
  return {
    novanet, dir, tokenFile, cacheDir,
    conf: (extra = {}) => ({
      cniVersion: "1.0.0", name: "novanet-test", type: "novanet", mode: "bridge",
      novanet: { server_addr: novanet.address, token_file: tokenFile },
      org_id: first?.orgId, project_id: first?.projectId, subnet_id: first?.id,
      cacheDir, ...extra,
    }),
    close: async () => {
      await novanet.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
