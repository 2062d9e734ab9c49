// What an interrupted test run leaves (its agent and NovaNET gone, its pod
// still there holding an IP) is removed before the next run, checked from
// outside: CRI, ip netns, ip link.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { clearTestLeftovers, isTestNode } from "../../clear-test-leftovers";
import { BUSYBOX, startCluster, startPod } from "../../../agent/test/helpers/cluster";
import { netnsList, sandboxesOfNode } from "../../../agent/test/helpers/cri";
import { hostVethName } from "../../../cni-plugin/src/plumbing/names";

test("test nodes are it-<8 hex>; nothing else is ours to remove", () => {
  assert.ok(isTestNode("it-0a1b2c3d"));
  for (const n of ["", "dev", "it-", "it-0a1b2c3", "it-0a1b2c3dx", "worker-it-0a1b2c3d", "IT-0A1B2C3D"]) assert.equal(isTestNode(n), false, n);
});

test("a pod left by a run killed mid-way goes, with its netns and host veth", async () => {
  const c = await startCluster();
  try {
    const pod = await startPod(c, { metadata: { name: "left" }, spec: { terminationGracePeriodSeconds: 0n, containers: [{ name: "c", image: BUSYBOX, command: ["sleep", "3600"] }] } });
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
    assert.deepEqual(gone.map((s) => s.id), [sandbox.id]);
    assert.deepEqual(await sandboxesOfNode(c.nodeName), []);
    assert.ok(!netnsList().includes(netns), `netns ${netns} removed`);
    assert.ok(!hasLink(hostVeth), "host veth removed");
    assert.deepEqual(await clearTestLeftovers(), [], "a second run finds nothing");
  } finally {
    await c.close();
  }
});
