// A real single-node cluster for integration tests: the control-plane stand-in
// in-process, the agent as a child process (so a test can SIGKILL it), the
// shared containerd from scripts/node-stack/up.sh, a user client.
import { spawn, type ChildProcess } from "node:child_process";
import { after, before } from "node:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { CreatePodRequest, DeletePodRequest, GetPodRequest, Pod } from "@plasmacloud/proto/k8shost";
import { errorCode } from "@plasmacloud/common/errors";
import { startControlPlaneStandIn, type ControlPlaneStandIn } from "../../../stand-ins/src/controlplane/server";
import type { Store } from "../../../stand-ins/src/controlplane/store";
import { TokenStore } from "../../../stand-ins/src/iam/tokens";
import { startNovanetStandIn, type NovanetStandIn } from "../../../stand-ins/src/novanet/server";
import { ControlPlane } from "../../src/controlplane/client";
import { CONTAINERD_SOCK, purgeNode, sandboxesOfNode } from "./cri";
import { startStorage, sweep, type Storage } from "./storage";

export { CONTAINERD_SOCK } from "./cri";
export const REGISTRY = process.env.REGISTRY_ADDR ?? "127.0.0.1:5000";
export const AUTH_REGISTRY = process.env.AUTH_REGISTRY_ADDR ?? "127.0.0.1:5001";
export const BUSYBOX = `${REGISTRY}/plasmacloud/busybox:1.0`;
export const TEST_SUBNET = "agent-it";
const STACK_DIR = process.env.PLASMA_STACK_DIR ?? "/var/lib/plasmacloud-stack";
export const NOVANET_ADDR = process.env.NOVANET_ADDR ?? "127.0.0.1:19696";
const NOVANET_TOKEN_FILE = join(STACK_DIR, "novanet.token");

/**
 * The node's NovaNET endpoint has one fixed address (it is in containerd's
 * conflist), so clusters take turns: wait while another test process holds it.
 */
async function startNodeNovanet(tokens: TokenStore): Promise<NovanetStandIn> {
  const subnets = [
    { id: TEST_SUBNET, orgId: "org-a", projectId: "proj-a", cidr: "10.77.0.0/24", gatewayIp: "10.77.0.1", dnsServers: ["10.96.0.10"], mtu: 1450 },
    { id: OTHER_TENANT_SUBNET, orgId: "org-b", projectId: "proj-b", cidr: "10.78.0.0/24", gatewayIp: "10.78.0.1", mtu: 1450 },
  ];
  const end = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      return await startNovanetStandIn({ tokens, subnets, address: NOVANET_ADDR });
    } catch (err) {
      if (Date.now() > end || !/EADDRINUSE|address already in use|No address added/i.test(String(err))) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
export const OTHER_TENANT_SUBNET = "agent-it-b";
export const LOG_DIR = join(tmpdir(), "agent-it-logs");
const repo = new URL("../../../", import.meta.url).pathname;

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

export class AgentProcess {
  proc: ChildProcess | undefined;
  output = "";
  constructor(private readonly configFile: string, private readonly bundled = false, private readonly executable?: string) {}

  start(): void {
    // An installed executable (the node tarball's) or the bundle is what a node runs; tests use the sources through tsx.
    const [cmd, ...entry] = this.executable ? [this.executable] : this.bundled ? [join(repo, "agent/bin/k8shost-agent")] : [process.execPath, "--import", "tsx", join(repo, "agent/src/main.ts")];
    this.proc = spawn(cmd!, [...entry, "run", "--config", this.configFile], {
      cwd: repo,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const p = this.proc;
    p.stdout!.on("data", (d: Buffer) => (this.output += d.toString()));
    p.stderr!.on("data", (d: Buffer) => (this.output += d.toString()));
  }

  get alive(): boolean {
    return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async kill(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const p = this.proc;
    if (!p || !this.alive) return;
    const exited = new Promise((r) => p.once("exit", r));
    p.kill(signal);
    await exited;
  }

  lines(): Record<string, unknown>[] {
    return this.output.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

export interface Cluster {
  dir: string;
  nodeName: string;
  cp: ControlPlaneStandIn;
  store: Store;
  tokens: TokenStore;
  nodeTokenFile: string;
  user: ControlPlane;
  agent: AgentProcess;
  /** The NovaNET stand-in the agent's novanet plugin talks to. */
  novanet: NovanetStandIn;
  /** The agent's rootDir. */
  rootDir: string;
  /** Set with the `storage` option: LightningStor stand-in + lightningstor-csi driver. */
  storage?: Storage;
  stopControlPlane(): Promise<void>;
  startControlPlane(): Promise<void>;
  createPod(pod: PodInput): Promise<Pod>;
  getPod(name: string, ns?: string): Promise<Pod | undefined>;
  deletePod(name: string, graceSeconds?: number): Promise<void>;
  deletePodRef(namespace: string, name: string): Promise<void>;
  close(): Promise<void>;
}

type DeepPartial<T> = T extends Date | bigint | string | number | boolean ? T : T extends (infer U)[] ? DeepPartial<U>[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
export type PodInput = DeepPartial<Pod> & { metadata: { name: string } };

export interface ClusterOptions {
  nodeToken?: string;
  extraConfig?: string;
  /** Run agent/dist/k8shost-agent.mjs (build it first) instead of the sources. */
  bundled?: boolean;
  /** Run this k8shost-agent executable (e.g. one installed from the node tarball) instead. */
  executable?: string;
  /** network.novanet.pluginPath of the agent (default: the node stack's novanet, containerd's). */
  novanetPluginPath?: string;
  /** Fields of the agent's `runtime` block over the default (endpoint: the node stack's containerd). */
  runtime?: Record<string, string | number>;
  /** heartbeatSeconds of the agent (default 2: tests want quick node updates). */
  heartbeatSeconds?: number;
  /** network.novanet.checkSeconds of the agent (default: the agent's). */
  networkCheckSeconds?: number;
  /** clusterDNS.servers of the agent (default 10.96.0.10, where nothing answers). */
  clusterDNS?: string[];
  /** Start LightningStor and the lightningstor-csi driver (tenant org-a/proj-a) for this node. */
  storage?: boolean;
  /** With `storage`: run this lightningstor-csi executable (e.g. an installed one) instead of the sources. */
  csiExecutable?: string;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), "agent-it-"));
  const nodeName = `it-${randomBytes(4).toString("hex")}`;
  const tokens = new TokenStore()
    .add("user-token", { name: "user:alice", kind: "user", orgId: "org-a", projectId: "proj-a" })
    .add("node-token", { name: `system:node:${nodeName}`, kind: "node", orgId: "", projectId: "", nodeName });
  let cp = await startControlPlaneStandIn({ tokens });
  const address = cp.address;
  const store = cp.store;
  // Pod networks come from NovaNET: containerd runs the novanet plugin from the
  // node stack's conflist against the node's NovaNET endpoint, served here.
  const novanetToken = readFileSync(NOVANET_TOKEN_FILE, "utf8").trim();
  tokens.add(novanetToken, { name: `system:node:${nodeName}:cni`, kind: "node", orgId: "", projectId: "", nodeName });
  const novanet = await startNodeNovanet(tokens);
  const nodeTokenFile = join(dir, "node.token");
  writeFileSync(nodeTokenFile, `${opts.nodeToken ?? "node-token"}\n`, { mode: 0o600 });
  writeFileSync(join(dir, "user.token"), "user-token\n", { mode: 0o600 });
  const configFile = join(dir, "agent.yaml");
  writeFileSync(
    configFile,
    [
      `nodeName: ${nodeName}`,
      `controlPlane: { address: "${address}", tokenFile: ${nodeTokenFile}, requestTimeoutSeconds: 5 }`,
      `runtime: ${JSON.stringify({ endpoint: `unix://${CONTAINERD_SOCK}`, ...opts.runtime })}`,
      `rootDir: ${join(dir, "root")}`,
      `podLogsDir: ${join(dir, "logs")}`,
      `heartbeatSeconds: ${opts.heartbeatSeconds ?? 2}`,
      `healthz: { port: 0 }`,
      `clusterDNS: { servers: ${JSON.stringify(opts.clusterDNS ?? ["10.96.0.10"])}, domain: "cluster.local" }`,
      `network:`,
      `  mode: novanet`,
      `  novanet: { pluginPath: ${opts.novanetPluginPath ?? join(STACK_DIR, "cni/bin/novanet")}, networkName: novanet, serverAddress: "${NOVANET_ADDR}", tokenFile: ${NOVANET_TOKEN_FILE}, mode: bridge, defaultSubnetId: ${TEST_SUBNET}${opts.networkCheckSeconds ? `, checkSeconds: ${opts.networkCheckSeconds}` : ""} }`,
      opts.extraConfig ?? "",
    ].join("\n"),
  );
  const user = new ControlPlane(address, join(dir, "user.token"), "", 5000);
  const rootDir = join(dir, "root");
  let storage: Storage | undefined;
  if (opts.storage) {
    try {
      storage = await startStorage({ dir, rootDir, nodeName, tokens, orgId: "org-a", projectId: "proj-a", executable: opts.csiExecutable });
    } catch (err) {
      user.close();
      await cp.stop();
      await novanet.stop();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }
  const agent = new AgentProcess(configFile, opts.bundled, opts.executable);
  agent.start();

  const c: Cluster = {
    dir,
    nodeName,
    get cp() {
      return cp;
    },
    store,
    tokens,
    nodeTokenFile,
    user,
    agent,
    novanet,
    rootDir,
    storage,
    async stopControlPlane() {
      await cp.stop();
    },
    async startControlPlane() {
      cp = await startControlPlaneStandIn({ tokens, address, store });
    },
    async createPod(pod) {
      const p = Pod.fromPartial({ ...pod, metadata: { ...pod.metadata, namespace: pod.metadata.namespace || "default" }, spec: { nodeName, ...pod.spec } } as never);
      return user.call("CreatePod", user.pods.createPod.bind(user.pods), CreatePodRequest.fromPartial({ pod: p }));
    },
    async getPod(name, ns = "default") {
      try {
        return await user.call("GetPod", user.pods.getPod.bind(user.pods), GetPodRequest.fromPartial({ ref: { namespace: ns, name } }));
      } catch (err) {
        if (errorCode(err) === "NotFound") return undefined;
        throw err;
      }
    },
    async deletePodRef(namespace, name) {
      await user.call("DeletePod", user.pods.deletePod.bind(user.pods), DeletePodRequest.fromPartial({ ref: { namespace, name }, gracePeriodSeconds: 0n }));
    },
    async deletePod(name, graceSeconds) {
      const req = DeletePodRequest.fromPartial({ ref: { namespace: "default", name }, gracePeriodSeconds: graceSeconds === undefined ? undefined : BigInt(graceSeconds) });
      await user.call("DeletePod", user.pods.deletePod.bind(user.pods), req);
    },
    async close() {
      // Let the agent tear down what is left, so every network attachment and
      // mount goes through its owner rather than being swept from outside.
      if (agent.alive) {
        for (const p of [...store.pods.values()].filter((x) => x.spec?.nodeName === nodeName)) {
          await c.deletePodRef(p.metadata!.namespace, p.metadata!.name).catch(() => undefined);
        }
        await waitFor("the agent to remove its sandboxes", async () => (await sandboxesOfNode(nodeName)).length === 0, 30_000).catch(() => undefined);
      }
      await agent.kill("SIGTERM");
      // Anything the agent did not remove goes while NovaNET still answers the CNI DEL.
      await purgeNode(nodeName).catch(() => undefined);
      // Keep the agent's log of every run for a failed test's post-mortem.
      mkdirSync(LOG_DIR, { recursive: true });
      writeFileSync(join(LOG_DIR, `${nodeName}.log`), agent.output);
      user.close();
      await cp.stop();
      await novanet.stop();
      if (storage) {
        await storage.stop();
        // Whatever a failed test left mounted or attached; never rm through a mount.
        const cleaned = sweep(dir);
        if (cleaned.length) writeFileSync(join(LOG_DIR, `${nodeName}.sweep`), cleaned.join("\n"));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return c;
}

/** Waits until the pod is Running (and `also` holds of it); returns it. */
export function podRunning(c: Cluster, name: string, also: (p: Pod) => boolean = () => true, timeoutMs = 30_000): Promise<Pod> {
  return waitFor(`${name} Running`, async () => {
    const p = await c.getPod(name);
    return p?.status?.phase === "Running" && also(p) ? p : undefined;
  }, timeoutMs);
}

/** Creates the pod and waits until it is Running; returns it. */
export async function startPod(c: Cluster, pod: PodInput): Promise<Pod> {
  await c.createPod(pod);
  return podRunning(c, pod.metadata.name);
}

/** One cluster for every test of a file: started before the first, closed (its node purged) after the last. */
export function clusterPerFile(started: (c: Cluster) => void, opts: ClusterOptions = {}): void {
  let c: Cluster | undefined;
  before(async () => started((c = await startCluster(opts))));
  after(async () => {
    if (!c) return;
    await c.close();
    await purgeNode(c.nodeName);
  });
}
