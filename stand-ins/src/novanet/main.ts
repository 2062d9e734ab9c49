// CLI for the NovaNET stand-in, used by the dev cluster:
//   tsx stand-ins/src/novanet/main.ts --listen 127.0.0.1:9190 --state FILE --config FILE
// --config is JSON: { "tokens": [{ "token", "name", "kind", "orgId", "projectId" }],
//                     "subnets": [{ "id", "orgId", "projectId", "cidr", "gatewayIp"?, "dnsServers"?, "mtu"? }] }
// --token T:ORG:PROJECT adds a user token, --node-token T adds a node token (any tenant).
// --ovn-nb DB (e.g. unix:/run/plasmacloud-stack/ovn/ovnnb_db.sock) programs OVN
// northbound as NovaNET does (ovn.ts), names under --ovn-prefix (default "novanet").
// Prints "novanet stand-in listening on ADDR" once serving; stops on SIGINT/SIGTERM.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { TokenStore, type PrincipalKind } from "../iam/tokens.js";
import { startNovanetStandIn } from "./server.js";
import type { SubnetInput } from "./store.js";

interface ConfigFile {
  tokens?: { token: string; name?: string; kind?: PrincipalKind; orgId?: string; projectId?: string }[];
  subnets?: SubnetInput[];
}

const { values } = parseArgs({
  options: {
    listen: { type: "string", default: "127.0.0.1:9190" },
    state: { type: "string" },
    config: { type: "string" },
    token: { type: "string", multiple: true },
    "node-token": { type: "string", multiple: true },
    "ovn-nb": { type: "string" },
    "ovn-prefix": { type: "string" },
  },
});

const tokens = new TokenStore();
const cfg: ConfigFile = values.config ? (JSON.parse(readFileSync(values.config, "utf8")) as ConfigFile) : {};
for (const t of cfg.tokens ?? []) {
  tokens.add(t.token, {
    name: t.name ?? `user:${t.token.slice(0, 4)}`, kind: t.kind ?? "user", orgId: t.orgId ?? "", projectId: t.projectId ?? "",
  });
}
for (const spec of values.token ?? []) {
  const [token, orgId, projectId] = spec.split(":");
  if (!token || !orgId || !projectId) { console.error(`--token: expected TOKEN:ORG:PROJECT, got ${spec}`); process.exit(2); }
  tokens.add(token, { name: `user:${orgId}/${projectId}`, kind: "user", orgId, projectId });
}
for (const token of values["node-token"] ?? []) tokens.add(token, { name: "system:node", kind: "node", orgId: "", projectId: "" });

const standIn = await startNovanetStandIn({
  tokens, subnets: cfg.subnets ?? [], address: values.listen, stateFile: values.state,
  ovn: values["ovn-nb"] ? { nbDb: values["ovn-nb"], prefix: values["ovn-prefix"] } : undefined,
});
console.log(`novanet stand-in listening on ${standIn.address}`);
const stop = (): void => { void standIn.stop().then(() => process.exit(0)); };
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
