// What the API server (and the kubelet, for ports) refuses in probes and
// lifecycle hooks, each refusal naming its field.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Pod } from "@plasmacloud/proto/k8shost";
import { validatePod } from "../../src/pods/validate";

const check = (container: Record<string, unknown>, spec: Record<string, unknown> = {}): string | undefined =>
  validatePod(Pod.fromPartial({ metadata: { uid: "u", name: "p", namespace: "n" }, spec: { containers: [{ name: "app", image: "img", ports: [{ name: "http", containerPort: 8080 }], ...container }], ...spec } as never }), () => undefined);

const exec = { exec: { command: ["true"] } };

test("valid probes and hooks pass", () => {
  assert.equal(
    check({
      livenessProbe: { httpGet: { path: "/healthz", port: "http", scheme: "HTTPS", httpHeaders: [{ name: "X-Probe", value: "1" }] }, terminationGracePeriodSeconds: 5n },
      readinessProbe: { tcpSocket: { port: "8080" }, successThreshold: 3 },
      startupProbe: { grpc: { port: 9090 }, failureThreshold: 30 },
      lifecycle: { postStart: exec, preStop: { sleep: { seconds: 5n } } },
    }),
    undefined,
  );
});

test("exactly one handler", () => {
  assert.equal(check({ livenessProbe: { ...exec, tcpSocket: { port: "80" } } }), "spec.containers[0].livenessProbe.tcpSocket: may not specify more than 1 handler type");
  assert.match(check({ readinessProbe: { periodSeconds: 5 } }) ?? "", /^spec\.containers\[0\]\.readinessProbe: must specify a handler type/);
  assert.equal(check({ lifecycle: { preStop: { ...exec, sleep: { seconds: 1n } } } }), "spec.containers[0].lifecycle.preStop.sleep: may not specify more than 1 handler type");
  assert.match(check({ lifecycle: { postStart: {} } }) ?? "", /^spec\.containers\[0\]\.lifecycle\.postStart: must specify a handler type/);
});

test("tcpSocket is refused in lifecycle hooks", () => {
  assert.match(check({ lifecycle: { preStop: { tcpSocket: { port: "80" } } } }) ?? "", /^spec\.containers\[0\]\.lifecycle\.preStop\.tcpSocket: not supported in lifecycle hooks/);
});

test("thresholds and grace: successThreshold 1 for liveness and startup, no grace on readiness, nothing negative", () => {
  assert.equal(check({ livenessProbe: { ...exec, successThreshold: 2 } }), "spec.containers[0].livenessProbe.successThreshold: 2 must be 1");
  assert.equal(check({ startupProbe: { ...exec, successThreshold: 3 } }), "spec.containers[0].startupProbe.successThreshold: 3 must be 1");
  assert.equal(check({ readinessProbe: { ...exec, terminationGracePeriodSeconds: 5n } }), "spec.containers[0].readinessProbe.terminationGracePeriodSeconds: must not be set for readinessProbes");
  assert.equal(check({ livenessProbe: { ...exec, terminationGracePeriodSeconds: 0n } }), "spec.containers[0].livenessProbe.terminationGracePeriodSeconds: 0 must be greater than 0");
  assert.equal(check({ livenessProbe: { ...exec, periodSeconds: -1 } }), "spec.containers[0].livenessProbe.periodSeconds: -1 must be greater than or equal to 0");
  assert.equal(check({ livenessProbe: { exec: { command: [] } } }), "spec.containers[0].livenessProbe.exec.command: must not be empty");
});

test("ports: numbers in range, names well-formed and present in the container", () => {
  assert.equal(check({ livenessProbe: { httpGet: { path: "/", port: "metrics" } } }), "spec.containers[0].livenessProbe.httpGet.port: no port named 'metrics' in the container's ports");
  assert.equal(check({ readinessProbe: { tcpSocket: { port: "70000" } } }), "spec.containers[0].readinessProbe.tcpSocket.port: 70000 must be between 1 and 65535, inclusive");
  assert.match(check({ readinessProbe: { tcpSocket: { port: "Bad_Name" } } }) ?? "", /^spec\.containers\[0\]\.readinessProbe\.tcpSocket\.port: 'Bad_Name' is neither a port number nor a port name/);
  assert.match(check({ readinessProbe: { tcpSocket: { port: "" } } }) ?? "", /tcpSocket\.port: must be set/);
  assert.equal(check({ startupProbe: { grpc: { port: 0 } } }), "spec.containers[0].startupProbe.grpc.port: 0 must be between 1 and 65535, inclusive");
  assert.equal(check({ lifecycle: { postStart: { httpGet: { path: "/", port: "admin" } } } }), "spec.containers[0].lifecycle.postStart.httpGet.port: no port named 'admin' in the container's ports");
});

test("httpGet scheme and header names; sleep within the grace period", () => {
  assert.equal(check({ livenessProbe: { httpGet: { path: "/", port: "http", scheme: "https" } } }), "spec.containers[0].livenessProbe.httpGet.scheme: 'https' is not one of HTTP, HTTPS");
  assert.match(check({ readinessProbe: { httpGet: { path: "/", port: "http", httpHeaders: [{ name: "Bad Header", value: "x" }] } } }) ?? "", /^spec\.containers\[0\]\.readinessProbe\.httpGet\.httpHeaders\[0\]\.name: 'Bad Header' is not a valid HTTP header name/);
  assert.equal(check({ lifecycle: { preStop: { sleep: { seconds: 31n } } } }), "spec.containers[0].lifecycle.preStop.sleep.seconds: 31 must be non-negative and less than terminationGracePeriodSeconds (30)");
  assert.equal(check({ lifecycle: { preStop: { sleep: { seconds: 10n } } } }, { terminationGracePeriodSeconds: 5n }), "spec.containers[0].lifecycle.preStop.sleep.seconds: 10 must be non-negative and less than terminationGracePeriodSeconds (5)");
});
