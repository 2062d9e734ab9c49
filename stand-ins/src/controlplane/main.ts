// CLI for the dev cluster: k8shost control-plane stand-in.
//   main.ts --listen 127.0.0.1:6443 --tokens tokens.json [--dns HOST:PORT [--dns-upstream IP[:PORT]]...]
// --dns also serves FlashDNS (../flashdns) from this store: Services' and pods'
// names in the asking pod's tenant; other names go to the upstreams (default:
// the host's first nameserver).
// tokens.json: { "<token>": { "name": "...", "kind": "user"|"node", "orgId": "...", "projectId": "...", "nodeName": "..." } }
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startFlashDnsStandIn, storeView, type FlashDnsStandIn } from "../flashdns/server";
import { TokenStore, type Principal } from "../iam/tokens";
import { startControlPlaneStandIn } from "./server";

const { values } = parseArgs({
  options: { listen: { type: "string", default: "127.0.0.1:6443" }, tokens: { type: "string" }, dns: { type: "string" }, "dns-upstream": { type: "string", multiple: true } },
});
if (!values.tokens) {
  process.stderr.write("controlplane stand-in: --tokens FILE is required\n");
  process.exit(2);
}
const tokens = new TokenStore();
for (const [t, p] of Object.entries(JSON.parse(readFileSync(values.tokens, "utf8")) as Record<string, Principal>)) tokens.add(t, p);
const cp = await startControlPlaneStandIn({ tokens, address: values.listen });
process.stdout.write(`k8shost control-plane stand-in listening on ${cp.address}\n`);
let dns: FlashDnsStandIn | undefined;
if (values.dns) {
  const m = /^(.+):(\d+)$/.exec(values.dns);
  if (!m) {
    process.stderr.write(`controlplane stand-in: --dns must be HOST:PORT, got '${values.dns}'\n`);
    process.exit(2);
  }
  const hostNs = /^nameserver\s+(\d+\.\d+\.\d+\.\d+)/m.exec(readFileSync("/etc/resolv.conf", "utf8"))?.[1];
  const upstreams = values["dns-upstream"] ?? (hostNs ? [hostNs] : []);
  dns = await startFlashDnsStandIn({ view: storeView(cp.store), domain: "cluster.local", host: m[1], port: Number(m[2]), upstreams });
  process.stdout.write(`FlashDNS stand-in on ${dns.host}:${dns.port} (udp, tcp), upstreams ${upstreams.join(", ") || "none"}\n`);
}
const stop = (): void => void (dns?.stop() ?? Promise.resolve()).then(() => cp.stop()).then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
