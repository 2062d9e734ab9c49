// CLI for the dev cluster: k8shost control-plane stand-in.
//   main.ts --listen 127.0.0.1:6443 --tokens tokens.json
// tokens.json: { "<token>": { "name": "...", "kind": "user"|"node", "orgId": "...", "projectId": "...", "nodeName": "..." } }
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { TokenStore, type Principal } from "../iam/tokens";
import { startControlPlaneStandIn } from "./server";

const { values } = parseArgs({ options: { listen: { type: "string", default: "127.0.0.1:6443" }, tokens: { type: "string" } } });
if (!values.tokens) {
  process.stderr.write("controlplane stand-in: --tokens FILE is required\n");
  process.exit(2);
}
const tokens = new TokenStore();
for (const [t, p] of Object.entries(JSON.parse(readFileSync(values.tokens, "utf8")) as Record<string, Principal>)) tokens.add(t, p);
const cp = await startControlPlaneStandIn({ tokens, address: values.listen });
process.stdout.write(`k8shost control-plane stand-in listening on ${cp.address}\n`);
const stop = (): void => void cp.stop().then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
