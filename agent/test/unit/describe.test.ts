// `pods describe` renders as kubectl describe pod does: aligned fields, container
// states with last state, env by reference (never a secret's value), conditions,
// volumes, and the events table with kubectl's ages ("3m2s (x4 over 10m)").
import { test } from "node:test";
import assert from "node:assert/strict";
import { Event, Pod } from "@plasmacloud/proto/k8shost";
import { describePod, humanDuration, tabwrite } from "../../src/cli/describe";

const t0 = new Date("2030-01-01T00:00:00Z");
const at = (s: number): Date => new Date(t0.getTime() + s * 1000);
const pod = Pod.fromPartial({
  metadata: { name: "web", namespace: "default", uid: "u1", labels: { tier: "fe", app: "web" } },
  spec: {
    nodeName: "n1",
    initContainers: [{ name: "init", image: "busybox", command: ["sh", "-c", "true"] }],
    containers: [{
      name: "app", image: "busybox", command: ["sh", "-c", "exit 3"], ports: [{ containerPort: 80, protocol: "TCP" }],
      env: [{ name: "MODE", value: "fast" }, { name: "PASS", valueFrom: { secretKeyRef: { name: "creds", key: "password" } } }, { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
      volumeMounts: [{ name: "cfg", mountPath: "/etc/app", readOnly: true }],
      resources: { limits: { memory: "64Mi" } },
      livenessProbe: { exec: { command: ["cat", "/tmp/ok"] }, periodSeconds: 5 },
    }],
    volumes: [{ name: "cfg", configMap: { name: "app-config" } }],
  },
  status: {
    phase: "Running", hostIp: "192.0.2.1", podIp: "10.77.0.5", podIps: [{ ip: "10.77.0.5" }], startTime: t0, qosClass: "Burstable",
    initContainerStatuses: [{ name: "init", ready: true, state: { terminated: { exitCode: 0, reason: "Completed", startedAt: at(1), finishedAt: at(2) } } }],
    containerStatuses: [{ name: "app", restartCount: 4, containerId: "containerd://c5", state: { waiting: { reason: "CrashLoopBackOff" } }, lastState: { terminated: { exitCode: 3, reason: "Error", startedAt: at(500), finishedAt: at(501) } } }],
    conditions: [{ type: "Initialized", status: "True" }, { type: "Ready", status: "False" }],
  },
});
const ev = (reason: string, type: string, first: number, last: number, count: number, message: string, component = "kubelet"): Event =>
  Event.fromPartial({ metadata: { name: `web.${reason}` }, reason, type, firstTimestamp: at(first), lastTimestamp: at(last), count, message, source: { component, host: "n1" } });
const events = [
  ev("BackOff", "Warning", 10, 418, 4, "Back-off restarting failed container app in pod web_default(u1)"),
  ev("Pulled", "Normal", 2, 2, 1, 'Container image "busybox" already present on machine'),
  ev("Scheduled", "Normal", 0, 0, 1, "Successfully assigned default/web to n1", "default-scheduler"),
];

test("the pod's fields, aligned as kubectl aligns them", () => {
  const out = describePod(pod, events, at(600));
  for (const line of [
    "Name:         web",
    "Node:         n1/192.0.2.1",
    "Start Time:   Tue, 01 Jan 2030 00:00:00 +0000",
    "Labels:       app=web\n              tier=fe",
    "Annotations:  <none>",
    "Status:       Running",
    "IPs:\n  IP:  10.77.0.5",
    "Init Containers:\n  init:\n",
    "    State:          Terminated\n      Reason:       Completed\n      Exit Code:    0",
    "    State:          Waiting\n      Reason:       CrashLoopBackOff\n    Last State:     Terminated\n      Reason:       Error\n      Exit Code:    3",
    "    Restart Count:  4",
    "    Port:          80/TCP",
    "    Liveness:  exec [cat /tmp/ok] delay=0s timeout=1s period=5s #success=1 #failure=3",
    "      MODE:  fast\n      PASS:  <set to the key 'password' in secret 'creds'>  Optional: false\n      POD:    (v1:metadata.name)",
    "    Mounts:\n      /etc/app from cfg (ro)",
    "Conditions:\n  Type          Status\n  Initialized   True \n  Ready         False \n",
    "  cfg:\n    Type:      ConfigMap (a volume populated by a ConfigMap)\n    Name:      app-config",
    "QoS Class:     Burstable",
  ]) assert.ok(out.includes(line), `missing:\n${line}\nin:\n${out}`);
  assert.ok(out.indexOf("Init Containers:") < out.indexOf("Containers:\n  app:"), "init containers first");
});

test("events: sorted by last timestamp, a repeated one as 'last (xN over first)'", () => {
  const out = describePod(pod, events, at(600));
  const table = out.slice(out.indexOf("Events:"));
  assert.equal(
    table,
    [
      "Events:",
      "  Type     Reason     Age                   From               Message",
      "  ----     ------     ----                  ----               -------",
      "  Normal   Scheduled  10m                   default-scheduler  Successfully assigned default/web to n1",
      "  Normal   Pulled     9m58s                 kubelet            Container image \"busybox\" already present on machine",
      "  Warning  BackOff    3m2s (x4 over 9m50s)  kubelet            Back-off restarting failed container app in pod web_default(u1)",
      "",
    ].join("\n"),
  );
  assert.match(describePod(pod, [], at(600)), /\nEvents:\s+<none>\n$/);
  assert.match(describePod(pod, "ListEvents: unavailable", at(600)), /\nEvents:\s+<unavailable: ListEvents: unavailable>\n$/);
  assert.doesNotMatch(describePod(pod, undefined, at(600)), /Events:/, "--show-events=false leaves them out");
});

test("kubectl's human durations and Go's tabwriter blocks", () => {
  const cases: [number, string][] = [[0, "0s"], [119, "119s"], [120, "2m"], [182, "3m2s"], [600, "10m"], [179 * 60, "179m"], [3 * 3600, "3h"], [3 * 3600 + 60, "3h1m"], [47 * 3600, "47h"], [50 * 3600, "2d2h"], [400 * 86400, "400d"], [3 * 365 * 86400, "3y"]];
  for (const [s, want] of cases) assert.equal(humanDuration(s * 1000), want, `${s}s`);
  assert.equal(tabwrite(["a:\t1", "long name:\t2", "break", "b:\t3"]), "a:          1\nlong name:  2\nbreak\nb:  3\n");
});
