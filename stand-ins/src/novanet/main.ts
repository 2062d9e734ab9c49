// CLI for the NovaNET stand-in, used by the dev cluster:
//   tsx stand-ins/src/novanet/main.ts --listen 127.0.0.1:9190 --state FILE --config FILE
// --config is JSON: { "tokens": [{ "token", "name", "kind", "orgId", "projectId" }],
//                     "subnets": [{ "id", "orgId", "projectId", "cidr", "gatewayIp"?, "dnsServers"?, "mtu"? }],
//                     "management": { "cidr", "id"?, "gatewayIp"?, "mtu"?, "linkCidr"? } (with --ovn-nb: ovn-mgmt.ts) }
// --token T:ORG:PROJECT adds a user token, --node-token T adds a node token (any tenant).
// --ovn-nb DB (e.g. unix:/run/plasmacloud-stack/ovn/ovnnb_db.sock) programs OVN
// northbound as NovaNET does (ovn.ts), names under --ovn-prefix (default "novanet");
// --ovn-remove-on-stop removes them on stop even with --state (the dev cluster:
// the state file keeps the record, the next start programs OVN again).
// --ovn-lb-control-plane ADDR (with --ovn-nb) also programs the control plane's
// Services as OVN load balancers (ovn-lb.ts), watched with --ovn-lb-token-file
// FILE (repeatable: one tenant's user token each); --ovn-lb-service-cidr
// (default 10.96.0.0/16) is rejected after the LB stage when no LB took it.
// Prints "novanet stand-in listening on ADDR" once serving; stops on SIGINT/SIGTERM.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createLogger } from "@plasmacloud/common/log";
import { TokenStore, type PrincipalKind } from "../iam/tokens.js";
import { startOvnLoadBalancers } from "./ovn-lb.js";
import { startNovanetStandIn, type NovanetStandInOptions } from "./server.js";
import type { SubnetInput } from "./store.js";

interface ConfigFile {
  tokens?: { token: string; name?: string; kind?: PrincipalKind; orgId?: string; projectId?: string }[];
  subnets?: SubnetInput[];
  management?: NovanetStandInOptions["management"];
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
    "ovn-remove-on-stop": { type: "boolean" },
    "ovn-lb-control-plane": { type: "string" },
    "ovn-lb-token-file": { type: "string", multiple: true },
    "ovn-lb-service-cidr": { type: "string" },
  },
});

if (values["ovn-lb-control-plane"] && !values["ovn-nb"]) { console.error("--ovn-lb-control-plane needs --ovn-nb"); process.exit(2); }
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
  ovn: values["ovn-nb"] ? { nbDb: values["ovn-nb"], prefix: values["ovn-prefix"], removeOnStop: values["ovn-remove-on-stop"] } : undefined,
  management: cfg.management,
});
const lbCp = values["ovn-lb-control-plane"];
let lbs: ReturnType<typeof startOvnLoadBalancers> | undefined;
try {
  lbs = lbCp ? startOvnLoadBalancers({
    nbDb: values["ovn-nb"] ?? "", ovn: standIn.ovn!, subnets: () => standIn.subnets(), controlPlane: lbCp,
    tokenFiles: values["ovn-lb-token-file"] ?? [], serviceCidr: values["ovn-lb-service-cidr"], log: createLogger({ component: "novanet-stand-in" }),
  }) : undefined;
} catch (e) {
  console.error(`novanet stand-in: ${(e as Error).message}`);
  await standIn.stop();
  process.exit(2);
}
console.log(`novanet stand-in listening on ${standIn.address}`);
// The LBs go with the switches (a stand-in without state), or stay for the next start to reconcile.
const removeLbs = values["ovn-remove-on-stop"] ?? !values.state;
const stop = (): void => {
  const lbsDone = (lbs?.stop({ remove: removeLbs }) ?? Promise.resolve()).catch((e: unknown) => console.error(`novanet stand-in: removing load balancers: ${(e as Error).message}`));
  void lbsDone.then(() => standIn.stop()).then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
