// The Services loop against the control-plane stand-in, with nft replaced by
// a recorder of what it is asked to run: nothing is written before Services,
// slices and pods are all known; a change is one `nft -f -` transaction; no
// change writes nothing; a new tenant on the node makes it list again; the
// table goes when the last Service does, and on stop with cleanupOnStop.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreatePodRequest, CreateServiceRequest, DeleteServiceRequest, UpdatePodStatusRequest, type Pod } from "@plasmacloud/proto/k8shost";
import { ExecError, type Runner } from "@plasmacloud/common/exec";
import { silentLogger } from "@plasmacloud/common/log";
import { ControlPlane } from "../../src/controlplane/client";
import { defaultServicesConfig } from "../../src/services/config";
import { NftTable } from "../../src/services/nft";
import { ServiceProxy } from "../../src/services/proxy";
import { TokenStore } from "../../../stand-ins/src/iam/tokens";
import { startControlPlaneStandIn } from "../../../stand-ins/src/controlplane/server";

/** A stand-in for nft: keeps the names a transaction adds and deletes, and every call. */
function fakeNft() {
  let table: { chains: Set<string>; sets: Map<string, string> } | undefined;
  const calls: { args: string[]; input?: string }[] = [];
  const run: Runner = async (_cmd, args, opts) => {
    calls.push({ args: [...args], input: opts?.input });
    if (args[0] === "-j") {
      if (!table) throw new ExecError("nft", args, 1, "", "Error: No such file or directory; did you mean table 'nat' in family ip?", "exit");
      return { stdout: JSON.stringify({ nftables: [...[...table.chains].map((name) => ({ chain: { name } })), ...[...table.sets].map(([name, kind]) => ({ [kind]: { name } }))] }), stderr: "" };
    }
    if (args[0] === "delete") {
      table = undefined;
      return { stdout: "", stderr: "" };
    }
    table ??= { chains: new Set(), sets: new Map() };
    for (const line of opts!.input!.split("\n")) {
      const m = /^(add|delete) (chain|set|map) ip \S+ (\S+)/.exec(line);
      if (!m) continue;
      if (m[1] === "delete") m[2] === "chain" ? table.chains.delete(m[3]!) : table.sets.delete(m[3]!);
      else if (m[2] === "chain") table.chains.add(m[3]!);
      else table.sets.set(m[3]!, m[2]!);
    }
    return { stdout: "", stderr: "" };
  };
  return { run, calls, writes: () => calls.filter((c) => c.args[0] === "-f"), removes: () => calls.filter((c) => c.args[0] === "delete"), get exists() { return !!table; } };
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 150));

test("the Services loop writes the table once per change, relists for a new tenant, and removes it when no Service is left and on stop", async () => {
  const tokens = new TokenStore()
    .add("a", { name: "user:a", kind: "user", orgId: "oa", projectId: "p" })
    .add("b", { name: "user:b", kind: "user", orgId: "ob", projectId: "p" })
    .add("n", { name: "system:node:n1", kind: "node", orgId: "", projectId: "", nodeName: "n1" });
  const cp = await startControlPlaneStandIn({ tokens });
  const dir = mkdtempSync(join(tmpdir(), "svc-proxy-"));
  const client = (tok: string): ControlPlane => (writeFileSync(join(dir, tok), tok), new ControlPlane(cp.address, join(dir, tok), "", 5000));
  const [a, b, node] = [client("a"), client("b"), client("n")];
  const nft = fakeNft();
  const proxy = new ServiceProxy({ cp: node, nodeName: "n1", cfg: { ...defaultServicesConfig(), cleanupOnStop: true }, log: silentLogger, resyncMs: 60_000, nft: new NftTable("k8shost", nft.run) });
  const sink = proxy.pods.tee({ upsert: () => undefined, remove: () => undefined, synced: () => undefined });
  const running = proxy.run();
  try {
    const startPod = async (c: ControlPlane, name: string, ip: string, labels: Record<string, string>): Promise<Pod> => {
      const p = await c.call("CreatePod", c.pods.createPod.bind(c.pods), CreatePodRequest.fromPartial({ pod: { metadata: { name, labels }, spec: { nodeName: "n1", containers: [{ name: "c", image: "i" }] } } }));
      const m = p.metadata!;
      return node.call("UpdatePodStatus", node.pods.updatePodStatus.bind(node.pods), UpdatePodStatusRequest.fromPartial({ ref: { orgId: m.orgId, projectId: m.projectId, name }, status: { phase: "Running", podIp: ip, conditions: [{ type: "Ready", status: "True" }] } }));
    };
    const web = await startPod(a, "web-1", "10.77.0.5", { app: "web" });
    const svc = await a.call("CreateService", a.services.createService.bind(a.services), CreateServiceRequest.fromPartial({ service: { metadata: { name: "web" }, spec: { selector: { app: "web" }, ports: [{ port: 80 }] } } }));
    await settle();
    assert.equal(nft.writes().length, 0, "nothing is written before the pods on the node are known");

    sink.upsert(web);
    sink.synced();
    await until("the first write", () => nft.writes().length === 1);
    const first = nft.writes()[0]!;
    assert.deepEqual(first.args, ["-f", "-"], "the ruleset goes on stdin, never on the command line");
    assert.match(first.input!, new RegExp(`${svc.spec!.clusterIp.replaceAll(".", "\\.")} \\. tcp \\. 80 : goto service-`));
    assert.match(first.input!, /dnat to 10\.77\.0\.5:80/);

    sink.upsert(web); // the same pod again (a resync): nothing to write
    await settle();
    assert.equal(nft.writes().length, 1);

    // Tenant b's Service exists before b has a pod here: the node learns of it once it lists again.
    await b.call("CreateService", b.services.createService.bind(b.services), CreateServiceRequest.fromPartial({ service: { metadata: { name: "api" }, spec: { selector: { app: "api" }, ports: [{ port: 8080 }] } } }));
    await settle();
    assert.equal(nft.writes().length, 1, "b is no tenant of this node yet");
    sink.upsert(await startPod(b, "api-1", "10.78.0.5", { app: "api" }));
    await until("b's Service in the table", () => nft.writes().some((w) => /dnat to 10\.78\.0\.5:8080/.test(w.input!)));

    for (const [c, name] of [[a, "web"], [b, "api"]] as const) await c.call("DeleteService", c.services.deleteService.bind(c.services), DeleteServiceRequest.fromPartial({ ref: { name } }));
    await until("the table removed", () => !nft.exists && nft.removes().length === 1);

    await a.call("CreateService", a.services.createService.bind(a.services), CreateServiceRequest.fromPartial({ service: { metadata: { name: "web" }, spec: { selector: { app: "web" }, ports: [{ port: 80 }] } } }));
    await until("the table back", () => nft.exists);
  } finally {
    proxy.stop();
    await running;
    for (const c of [a, b, node]) c.close();
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(!nft.exists, "cleanupOnStop removed the table");
});
