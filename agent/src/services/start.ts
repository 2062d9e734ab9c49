// The Services loop as agent.ts wires it: made only when this node's mode
// (services.mode, `auto` by the network mode) says the agent programs Services.
import type { Logger } from "@plasmacloud/common/log";
import type { AgentConfig } from "../config/schema";
import type { PodSink } from "../controlplane/podsource";
import type { ControlPlane } from "../controlplane/client";
import { servicesMode } from "./config";
import { ServiceProxy } from "./proxy";

export interface ServicesLoop {
  /** Passes pods on to `next`, noting the tenants' pod IPs on the way. */
  podSink(next: PodSink): PodSink;
  run(): Promise<void>;
  stop(): void;
}

export function servicesLoop(cfg: AgentConfig, cp: ControlPlane, log: Logger): ServicesLoop | undefined {
  const mode = servicesMode(cfg.services, cfg.network);
  const slog = log.child({ component: "services" });
  if (mode === "none") {
    slog.info({ configured: cfg.services.mode }, "Services are not programmed on this node (services.mode)");
    return undefined;
  }
  const bridged = !(cfg.network.mode === "novanet" && cfg.network.novanet.mode === "ovs");
  const proxy = new ServiceProxy({ cp, nodeName: cfg.nodeName, cfg: cfg.services, log: slog, resyncMs: cfg.podResyncSeconds * 1000, bridged });
  slog.info({ mode, table: cfg.services.table, serviceCIDR: cfg.services.serviceCIDR }, "Services programmed with nftables");
  return { podSink: (next) => proxy.pods.tee(next), run: () => proxy.run(), stop: () => proxy.stop() };
}
