// containerd stops answering: the node turns NotReady with a reason, running
// pods survive (their shims live on), and everything converges once
// containerd is back. Also the agent's local endpoints report what happened.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { BUSYBOX, startCluster, startPod, waitFor } from "../helpers/cluster";
import { containersOf, isRunning, purgeNode } from "../helpers/cri";

const RUN = process.env.PLASMA_RUN_DIR ?? "/run/plasmacloud-stack";
const repo = new URL("../../../", import.meta.url).pathname;

test("containerd down: Ready=False with a reason, pods survive, converges after; /healthz and /metrics tell", async () => {
  const c = await startCluster();
  try {
    const pod = await startPod(c, { metadata: { name: "survivor" }, spec: { terminationGracePeriodSeconds: 1n, containers: [{ name: "s", image: BUSYBOX, command: ["sleep", "3600"] }] } });
    const ids = (await containersOf(pod.metadata!.uid)).map((x) => x.id);
    const endpoint = /"healthz":"([^"]+)"/.exec(c.agent.output)?.[1];
    assert.ok(endpoint, "the agent logs its local endpoint");
    assert.equal(await (await fetch(`http://${endpoint}/healthz`)).text(), "ok\n");
    // The phase gauge follows the 1 s relist.
    const metrics = await waitFor("metrics to count the running pod", async () => {
      const text = await (await fetch(`http://${endpoint}/metrics`)).text();
      return /^k8shost_agent_pods\{phase="Running"\} 1$/m.test(text) ? text : undefined;
    }, 5000);
    const has = (re: RegExp): void => assert.ok(re.test(metrics), `metrics lack ${re}`);
    has(/^k8shost_agent_pod_start_latency_seconds_count 1$/m);
    has(/^k8shost_agent_cri_call_duration_seconds_count\{method="RunPodSandbox"\} 1$/m);
    has(/^k8shost_agent_seconds_since_last_heartbeat \d/m);
    // The kubelet's own metrics under our prefix (README, "Metrics"): the pod's start was observed once.
    has(/^k8shost_agent_pod_start_sli_duration_seconds_count\{first_with_network="true"\} 1$/m);
    has(/^k8shost_agent_pod_worker_duration_seconds_count\{operation_type="create"\} [1-9]/m);
    has(/^k8shost_agent_runtime_operations_total\{operation_type="run_podsandbox"\} 1$/m);
    has(/^k8shost_agent_pleg_relist_interval_seconds_count [1-9]/m);
    has(/^k8shost_agent_running_pods 1$/m);
    has(/^k8shost_agent_running_containers\{container_state="running"\} 1$/m);

    const pid = Number(readFileSync(`${RUN}/containerd.pid`, "utf8"));
    process.kill(pid, "SIGTERM");
    try {
      const node = await waitFor("node NotReady", () => {
        const ready = c.store.nodes.get(c.nodeName)?.status?.conditions.find((x) => x.type === "Ready");
        return ready?.status === "False" ? ready : undefined;
      }, 30_000);
      assert.equal(node.reason, "ContainerRuntimeUnreachable");
      assert.match(node.message, /container runtime did not answer/);
      assert.ok(c.agent.alive, "the agent keeps running without its runtime");
      // The pod's process lives on in its shim while containerd is down.
      execFileSync("pgrep", ["-f", "sleep 3600"]);
    } finally {
      execFileSync("bash", [`${repo}/scripts/node-stack/up.sh`], { stdio: "ignore" });
    }
    await waitFor("node Ready again", () => c.store.nodes.get(c.nodeName)?.status?.conditions.some((x) => x.type === "Ready" && x.status === "True"), 30_000);
    const after = await containersOf(pod.metadata!.uid);
    assert.deepEqual(after.map((x) => x.id), ids, "the same container, never restarted");
    assert.ok(after.every(isRunning));
    assert.equal((await c.getPod("survivor"))?.status?.containerStatuses[0]?.restartCount, 0);
  } finally {
    await c.close();
    await purgeNode(c.nodeName);
  }
});
