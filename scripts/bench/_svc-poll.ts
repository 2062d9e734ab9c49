// The bench's side of _svc-poller.ts: finds the client pod's network
// namespace through CRI (the sandbox's runtime spec, as containerd 1.6 reports
// it), starts the poller there with nsenter and talks to it line by line.
import { spawn, type ChildProcess } from "node:child_process";
import { credentials } from "@grpc/grpc-js";
import { PodSandboxStatusRequest, RuntimeServiceClient } from "@plasmacloud/proto/cri";
import { CONTAINERD_SOCK, criCall, sandboxesOf } from "../../agent/test/helpers/cri";

const repo = new URL("../../", import.meta.url).pathname;

/** The same clock as the poller's: CLOCK_MONOTONIC in ms. */
export const now = (): number => Number(process.hrtime.bigint()) / 1e6;

export interface Polled {
  /** The poller's first attempt, the change, the first completed connect (ms, `now()`). */
  started: number;
  changed: number;
  done: number;
  attempts: number;
  refused: number;
}

/** The pod's network namespace path, from its ready sandbox's verbose status. */
async function netnsOf(podUid: string): Promise<string> {
  const [sb] = await sandboxesOf(podUid);
  if (!sb) throw new Error(`bench: no sandbox for pod ${podUid}`);
  const rt = new RuntimeServiceClient(`unix://${CONTAINERD_SOCK}`, credentials.createInsecure());
  try {
    const st = await criCall(rt, rt.podSandboxStatus, PodSandboxStatusRequest.fromPartial({ podSandboxId: sb.id, verbose: true }));
    const spec = JSON.parse(st.info.info ?? "{}") as { runtimeSpec?: { linux?: { namespaces?: { type: string; path?: string }[] } } };
    const path = spec.runtimeSpec?.linux?.namespaces?.find((n) => n.type === "network")?.path;
    if (!path) throw new Error(`bench: sandbox ${sb.id} reports no network namespace path`);
    return path;
  } finally {
    rt.close();
  }
}

export class Poller {
  private buf = "";
  private readonly waiting: ((o: Record<string, unknown>) => void)[] = [];
  private readonly ready: Record<string, unknown>[] = [];
  private stderr = "";

  private constructor(private readonly proc: ChildProcess) {
    proc.stdout!.on("data", (d: Buffer) => {
      this.buf += d.toString();
      for (let i = this.buf.indexOf("\n"); i >= 0; i = this.buf.indexOf("\n")) {
        const o = JSON.parse(this.buf.slice(0, i)) as Record<string, unknown>;
        this.buf = this.buf.slice(i + 1);
        const w = this.waiting.shift();
        if (w) w(o);
        else this.ready.push(o);
      }
    });
    proc.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString()));
  }

  static async start(podUid: string): Promise<Poller> {
    const netns = await netnsOf(podUid);
    const proc = spawn("nsenter", [`--net=${netns}`, "--", process.execPath, "--import", "tsx", new URL("./_svc-poller.ts", import.meta.url).pathname], { cwd: repo, stdio: ["pipe", "pipe", "pipe"] });
    const p = new Poller(proc);
    await p.ask("absent 127.0.0.1 9"); // answers once it runs
    return p;
  }

  private next(timeoutMs: number): Promise<Record<string, unknown>> {
    const o = this.ready.shift();
    if (o) return Promise.resolve(o);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bench: the poller did not answer in ${timeoutMs} ms: ${this.stderr}`)), timeoutMs);
      this.waiting.push((x) => (clearTimeout(timer), resolve(x)));
    });
  }

  private ask(line: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    this.proc.stdin!.write(`${line}\n`);
    return this.next(timeoutMs);
  }

  /** Nothing answers on ip:port from the pod (100 attempts over 100 ms). */
  async absent(ip: string, port: number): Promise<boolean> {
    return (await this.ask(`absent ${ip} ${port}`)).absent === true;
  }

  /** Polls ip:port, makes the change once polling runs (it returns its moment), waits for the first connect. */
  async poll(ip: string, port: number, change: () => Promise<number>, forMs = 15_000): Promise<Polled> {
    const started = Number((await this.ask(`poll ${ip} ${port} ${forMs}`)).started);
    const changed = await change();
    const r = await this.next(forMs + 5_000);
    if (r.done === null) throw new Error(`bench: no connection to ${ip}:${port} within ${forMs} ms of polling (${r.attempts} attempts, ${r.refused} refused)`);
    return { started, changed, done: Number(r.done), attempts: Number(r.attempts), refused: Number(r.refused) };
  }

  async close(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once("exit", r));
    this.proc.kill("SIGTERM");
    await exited;
  }
}
