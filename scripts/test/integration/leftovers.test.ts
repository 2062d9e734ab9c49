// What an interrupted test run leaves (its agent orphaned or gone, its pod
// still there holding an IP) is removed before the next run, and nothing of a
// run in progress; checked from outside: CRI, ip netns, ip link, /proc.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clearTestLeftovers, isTestNode, orphanTestAgents, running } from "../../clear-test-leftovers";
import { BUSYBOX, startCluster, startPod } from "../../../agent/test/helpers/cluster";
import { netnsList, sandboxesOfNode } from "../../../agent/test/helpers/cri";
import { hostVethName } from "../../../cni-plugin/src/plumbing/names";

test("test nodes are it-<8 hex>; nothing else is ours to remove", () => {
  assert.ok(isTestNode("it-0a1b2c3d"));
  for (const n of ["", "dev", "it-", "it-0a1b2c3", "it-0a1b2c3dx", "worker-it-0a1b2c3d", "IT-0A1B2C3D"]) assert.equal(isTestNode(n), false, n);
});

test("a pod left by a run killed mid-way goes, with its netns and host veth; a live run's stays", async () => {
  const c = await startCluster();
  try {
    const pod = await startPod(c, { metadata: { name: "left" }, spec: { terminationGracePeriodSeconds: 0n, containers: [{ name: "c", image: BUSYBOX, command: ["sleep", "3600"] }] } });
    // A run in progress (its agent alive, its test process its parent) is not a leftover.
    assert.deepEqual(await clearTestLeftovers(), { agents: [], sandboxes: [] }, "a live cluster's pod stays");
    assert.equal((await sandboxesOfNode(c.nodeName)).length, 1);
    // The run dies: the agent without a chance to clean up, NovaNET with it.
    await c.agent.kill("SIGKILL");
    await c.novanet.stop();
    const [sandbox] = await sandboxesOfNode(c.nodeName);
    assert.ok(sandbox, "the pod's sandbox outlived its agent");
    const netns = netnsList().find((n) => execFileSync("ip", ["-n", n, "-br", "addr"], { encoding: "utf8" }).includes(`${pod.status!.podIp}/`));
    assert.ok(netns, `a netns holds ${pod.status!.podIp}`);
    const hostVeth = hostVethName(sandbox.id, "eth0");
    const hasLink = (name: string): boolean => execFileSync("ip", ["-br", "link"], { encoding: "utf8" }).split("\n").some((l) => l.split(/[\s@]/)[0] === name);
    assert.ok(hasLink(hostVeth), `its host veth ${hostVeth} is on the host`);

    const gone = await clearTestLeftovers();
    assert.deepEqual(gone.sandboxes.map((s) => s.id), [sandbox.id]);
    assert.deepEqual(await sandboxesOfNode(c.nodeName), []);
    assert.ok(!netnsList().includes(netns), `netns ${netns} removed`);
    assert.ok(!hasLink(hostVeth), "host veth removed");
    assert.deepEqual(await clearTestLeftovers(), { agents: [], sandboxes: [] }, "a second run finds nothing");
  } finally {
    await c.close();
  }
});

test("an agent left running by a killed test process is killed; one whose test process lives is not", async () => {
  const dir = mkdtempSync(join(tmpdir(), "agent-it-"));
  const config = join(dir, "agent.yaml");
  // Stand-ins for agents (a node that sleeps, with the agent's arguments): one orphaned through a shell that exits, one our child.
  const sleeper = ["-e", "setTimeout(() => {}, 600000)", "run", "--config", config];
  const sh = spawn("sh", ["-c", `"${process.execPath}" "$@" >/dev/null 2>&1 & echo $!`, "sh", ...sleeper], { stdio: ["ignore", "pipe", "ignore"] });
  const orphan = Number(await new Promise<string>((res) => sh.stdout.once("data", (d: Buffer) => res(d.toString()))));
  const child = spawn(process.execPath, sleeper, { stdio: "ignore" });
  try {
    await new Promise((r) => setTimeout(r, 300)); // the shell has exited: the orphan is init's
    assert.ok(orphanTestAgents().includes(orphan), `orphan ${orphan} found`);
    assert.ok(!orphanTestAgents().includes(child.pid!), "a live test's agent is not an orphan");
    const gone = await clearTestLeftovers();
    assert.deepEqual(gone.agents, [orphan]);
    assert.equal(running(orphan), false, "the orphan is dead");
    assert.equal(child.exitCode, null, "the child still runs");
  } finally {
    child.kill("SIGKILL");
    try {
      process.kill(orphan, "SIGKILL");
    } catch {
      // killed by the test
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
