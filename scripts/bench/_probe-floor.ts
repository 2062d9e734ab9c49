// The idle figure's reference, run as its own process beside the idle agent:
// the same httpGet readiness probe of the same pods, every 10 s each, spread
// over the period as the agent spreads them, with the agent's own probe code
// (agent/src/probes/http.ts) and nothing else. Its CPU is what probing costs a
// Node process on this machine; the agent's figure above it is the agent's own.
// Usage: node --import tsx _probe-floor.ts POD_IP...; prints "ready" once armed.
import { Probe } from "@plasmacloud/proto/k8shost";
import { runProbe } from "../../agent/src/probes/handlers";
import { probedContainer } from "./_pods";

const PERIOD_MS = 10_000;
const probe = Probe.fromPartial(probedContainer.readinessProbe);
const container = { ...probedContainer, ports: [] } as unknown as Parameters<typeof runProbe>[1]["container"];
const noExec = (): never => {
  throw new Error("an httpGet probe execs nothing");
};

for (const podIP of process.argv.slice(2)) {
  const target = { container, containerId: podIP, podIP };
  const tick = (): void => {
    void runProbe(probe, target, 1000, noExec).then((r) => {
      if (r.result !== "success") console.error(`probe floor: ${podIP}: ${r.output}`);
    });
    setTimeout(tick, PERIOD_MS);
  };
  setTimeout(tick, Math.random() * PERIOD_MS);
}
process.on("SIGTERM", () => process.exit(0));
console.log("ready");
