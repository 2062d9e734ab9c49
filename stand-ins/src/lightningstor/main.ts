// CLI for the LightningStor stand-in (dev cluster):
//   node --import tsx stand-ins/src/lightningstor/main.ts \
//     --listen 127.0.0.1:7080 --data-dir /var/lib/plasmacloud-dev/lightningstor \
//     --token TOKEN=node:worker-1:ORG:PROJECT [--token TOKEN=user:alice:ORG:PROJECT]
// Tokens may also come from LIGHTNINGSTOR_TOKENS (same syntax, comma-separated).
import { parseArgs } from "node:util";
import { TokenStore, type Principal } from "../iam/tokens";
import { startLightningStorStandIn } from "./server";

function parseToken(spec: string): [string, Principal] {
  const eq = spec.indexOf("=");
  const parts = spec.slice(eq + 1).split(":");
  const [kind, name, orgId, projectId] = parts;
  if (eq <= 0 || parts.length !== 4 || (kind !== "node" && kind !== "user") || !name || !orgId || !projectId) {
    throw new Error(`--token ${JSON.stringify(spec.slice(0, Math.max(eq, 0)) + "=...")}: expected TOKEN=node|user:NAME:ORG:PROJECT`);
  }
  const principal: Principal = kind === "node"
    ? { name: `system:node:${name}`, kind, orgId, projectId, nodeName: name }
    : { name: `user:${name}`, kind, orgId, projectId };
  return [spec.slice(0, eq), principal];
}

const { values } = parseArgs({
  options: {
    listen: { type: "string", default: "127.0.0.1:7080" },
    "data-dir": { type: "string" },
    token: { type: "string", multiple: true, default: [] },
  },
});
const dataDir = values["data-dir"];
if (!dataDir) {
  console.error("lightningstor-standin: --data-dir is required");
  process.exit(2);
}
const tokens = new TokenStore();
const specs = [...(values.token ?? []), ...(process.env.LIGHTNINGSTOR_TOKENS ?? "").split(",").filter(Boolean)];
for (const s of specs) tokens.add(...parseToken(s));

const standIn = await startLightningStorStandIn({ tokens, dataDir, address: values.listen });
console.log(JSON.stringify({ msg: "lightningstor stand-in listening", address: standIn.address, dataDir, tokens: specs.length }));
const stop = (): void => {
  void standIn.stop().then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
