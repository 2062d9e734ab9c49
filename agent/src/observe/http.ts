// Local endpoints: /healthz (200 while the agent's loops are alive) and
// /metrics (Prometheus text). Loopback by default; never exposes pod data.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { AgentMetrics } from "./metrics";

export interface HealthSource {
  /** Empty when healthy; otherwise why not. */
  healthProblems(): string[];
}

export async function startHttp(address: string, port: number, metrics: AgentMetrics, health: HealthSource): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.method !== "GET") {
      res.writeHead(405).end();
      return;
    }
    if (req.url === "/healthz") {
      const problems = health.healthProblems();
      res.writeHead(problems.length ? 503 : 200, { "content-type": "text/plain" });
      res.end(problems.length ? problems.join("\n") + "\n" : "ok\n");
      return;
    }
    if (req.url === "/metrics") {
      metrics.registry
        .metrics()
        .then((text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text))
        .catch((err: unknown) => res.writeHead(500).end(String(err)));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
