// A container's final environment as the kubelet's makeEnvironmentVariables
// makes it: sources, order, precedence, expansion, field and resource refs,
// and the errors a container waits on; plus the node's validation of them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Container, Pod } from "@plasmacloud/proto/k8shost";
import type { PodEvents } from "../../src/events/types";
import { formatMap, goQuote, podFieldValue } from "../../src/env/fieldpath";
import type { EnvObjects } from "../../src/env/objects";
import { EnvError, EnvResolver } from "../../src/env/resolve";
import { resourceFieldValue } from "../../src/env/resources";
import { envProblem } from "../../src/env/validate";

type DeepPartial<T> = T extends Date | bigint | string | number | boolean ? T : T extends (infer U)[] ? DeepPartial<U>[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
type Input = DeepPartial<Container>;

function podWith(c: Input, extra: Input[] = []): Pod {
  return Pod.fromPartial({
    metadata: { name: "web", namespace: "shop", uid: "u-1", orgId: "o", projectId: "p", labels: { app: "web", tier: "front" }, annotations: { "example.com/owner": 'team "a"\n' } },
    spec: { nodeName: "node-1", containers: [{ name: "c", image: "i", ...c }, ...extra.map((x) => ({ image: "i", ...x }))] },
  });
}

function fakes(cms: Record<string, Record<string, string>>, secrets: Record<string, Record<string, string>>) {
  const reads: string[] = [];
  const objects: EnvObjects = {
    configMap: async (pod, name) => {
      reads.push(`${pod.metadata!.orgId}/${pod.metadata!.namespace}/cm/${name}`);
      return cms[name];
    },
    secret: async (pod, name) => {
      reads.push(`${pod.metadata!.orgId}/${pod.metadata!.namespace}/secret/${name}`);
      const s = secrets[name];
      return s && Object.fromEntries(Object.entries(s).map(([k, v]) => [k, new TextEncoder().encode(v)]));
    },
  };
  const events: { type: string; reason: string; message: string }[] = [];
  const sink: PodEvents = { emit: (_pod, type, reason, message) => events.push({ type, reason, message }) };
  return { objects, reads, events, ctx: { podIPs: ["10.0.0.5", "fd00::5"], hostIP: "192.168.1.2", events: sink } };
}

const ALLOCATABLE = { cpu: "3800m", memory: "7Gi", "ephemeral-storage": "50Gi" };

test("envFrom first in order (prefix, later wins), then env in order with $(VAR) against earlier ones; command/args against the final env", async () => {
  const f = fakes({ base: { HOST: "db", PORT: "5432", "1bad": "x", "bad key": "y" } }, { creds: { USER: "admin", PORT: "6543" } });
  const pod = podWith({
    envFrom: [{ configMapRef: { name: "base" } }, { secretRef: { name: "creds" } }, { configMapRef: { name: "base" }, prefix: "CM_" }],
    env: [
      { name: "EARLY", value: "$(LATE)" },
      { name: "URL", value: "postgres://$(USER)@$(HOST):$(PORT)/$$(HOST)" },
      { name: "HOST", value: "override" },
      { name: "LATE", value: "late" },
      { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    ],
    command: ["sh", "-c", "echo $(URL) $(EARLY) $(LATE) $(NOPE) $$(HOST)"],
    args: ["$(POD)"],
  });
  const r = await new EnvResolver(f.objects, ALLOCATABLE).resolve(pod, pod.spec!.containers[0]!, f.ctx);
  const env = Object.fromEntries(r.env.map((e) => [e.name, e.value]));
  assert.equal(env.PORT, "6543", "a later envFrom source wins");
  assert.equal(env.CM_HOST, "db");
  assert.equal(env.URL, "postgres://admin@db:6543/$(HOST)", "expanded against envFrom and earlier env; $$ escapes");
  assert.equal(env.HOST, "override", "env wins over envFrom");
  assert.equal(env.EARLY, "$(LATE)", "a reference to a later variable stays literal");
  assert.equal(env["1bad"], undefined);
  assert.deepEqual(r.command, ["sh", "-c", "echo postgres://admin@db:6543/$(HOST) $(LATE) late $(NOPE) $(HOST)"]);
  assert.deepEqual(r.args, ["web"]);
  assert.equal(r.env.filter((e) => e.name === "PORT").length, 1, "one entry per name");
  assert.deepEqual(f.reads, ["o/shop/cm/base", "o/shop/secret/creds"], "each object read once, in the pod's tenant and namespace");
  assert.deepEqual(f.events, [
    { type: "Warning", reason: "InvalidEnvironmentVariableNames", message: "Keys [1bad, bad key] from the EnvFrom configMap shop/base were skipped since they are considered invalid environment variable names." },
    { type: "Warning", reason: "InvalidEnvironmentVariableNames", message: "Keys [CM_bad key] from the EnvFrom configMap shop/base were skipped since they are considered invalid environment variable names." },
  ]);
});

test("missing objects and keys: the kubelet's messages; optional ones are skipped; a value beats valueFrom", async () => {
  const f = fakes({ cm: { a: "1" } }, { s: { b: "2" } });
  const run = (c: Input) => new EnvResolver(f.objects, ALLOCATABLE).resolve(podWith(c), podWith(c).spec!.containers[0]!, f.ctx);
  const fails = async (c: Input, message: string): Promise<void> => {
    await assert.rejects(run(c), (err: unknown) => err instanceof EnvError && err.reason === "CreateContainerConfigError" && err.message === message);
  };
  await fails({ env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "nope", key: "a" } } }] }, 'configmap "nope" not found');
  await fails({ env: [{ name: "X", valueFrom: { secretKeyRef: { name: "nope", key: "a" } } }] }, 'secret "nope" not found');
  await fails({ env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "cm", key: "k" } } }] }, "couldn't find key k in ConfigMap shop/cm");
  await fails({ env: [{ name: "X", valueFrom: { secretKeyRef: { name: "s", key: "constructor" } } }] }, "couldn't find key constructor in Secret shop/s");
  await fails({ envFrom: [{ configMapRef: { name: "nope" } }] }, 'configmap "nope" not found');
  await fails({ envFrom: [{ secretRef: { name: "nope" } }] }, 'secret "nope" not found');
  const ok = await run({
    envFrom: [{ configMapRef: { name: "nope", optional: true } }, { secretRef: { name: "nope", optional: true } }],
    env: [
      { name: "A", valueFrom: { configMapKeyRef: { name: "cm", key: "missing", optional: true } } },
      { name: "B", valueFrom: { secretKeyRef: { name: "nope", key: "b", optional: true } } },
      { name: "C", valueFrom: { secretKeyRef: { name: "s", key: "b", optional: true } } },
      { name: "D", value: "plain", valueFrom: { configMapKeyRef: { name: "nope", key: "x" } } },
      { name: "E", value: "" },
    ],
  });
  assert.deepEqual(ok.env, [{ name: "C", value: "2" }, { name: "D", value: "plain" }, { name: "E", value: "" }]);
  // A control plane that fails (not NotFound) also holds the container, with the cause named.
  const broken: EnvObjects = { configMap: async () => Promise.reject(new Error("connection refused")), secret: async () => undefined };
  const c = { env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "cm", key: "a" } } }] };
  await assert.rejects(new EnvResolver(broken, {}).resolve(podWith(c), podWith(c).spec!.containers[0]!, f.ctx), /couldn't get configMap shop\/cm: connection refused/);
});

test("fieldRef: metadata, labels/annotations by key, node, pod and host IPs", () => {
  const pod = podWith({});
  const facts = { podIPs: ["10.0.0.5", "fd00::5"], hostIP: "192.168.1.2" };
  const v = (p: string): string => podFieldValue(pod, p, facts);
  assert.equal(v("metadata.name"), "web");
  assert.equal(v("metadata.namespace"), "shop");
  assert.equal(v("metadata.uid"), "u-1");
  assert.equal(v("metadata.labels['tier']"), "front");
  assert.equal(v("metadata.labels['absent']"), "");
  assert.equal(v("metadata.annotations['example.com/owner']"), 'team "a"\n');
  assert.equal(v("spec.nodeName"), "node-1");
  assert.equal(v("spec.serviceAccountName"), "");
  assert.equal(v("status.podIP"), "10.0.0.5");
  assert.equal(v("status.podIPs"), "10.0.0.5,fd00::5");
  assert.equal(v("status.hostIP"), "192.168.1.2");
  assert.equal(v("status.hostIPs"), "192.168.1.2");
  // The whole maps, as a volume shows them: FormatMap with Go's %q.
  assert.equal(v("metadata.labels"), 'app="web"\ntier="front"');
  assert.equal(v("metadata.annotations"), 'example.com/owner="team \\"a\\"\\n"');
  assert.equal(formatMap({}), "");
  assert.equal(goQuote("tab\there \u0001 \u007f é \u200b"), '"tab\\there \\x01 \\x7f é \\u200b"');
});

test("resourceFieldRef: divisor rounds up; an unset limit is the node's allocatable; an unset request is the limit", () => {
  const pod = podWith(
    { resources: { requests: { cpu: "250m", memory: "64Mi" }, limits: { cpu: "1500m" } } },
    [{ name: "side", resources: { limits: { memory: "1Gi", "ephemeral-storage": "2G" } } }],
  );
  const c = pod.spec!.containers[0]!;
  const v = (resource: string, divisor = "", containerName = ""): string => resourceFieldValue({ resource, divisor, containerName }, pod, c, ALLOCATABLE);
  assert.equal(v("limits.cpu"), "2", "1.5 cpu rounds up to 2");
  assert.equal(v("limits.cpu", "1m"), "1500");
  assert.equal(v("requests.cpu", "1m"), "250");
  assert.equal(v("requests.cpu"), "1");
  assert.equal(v("requests.memory", "1Mi"), "64");
  assert.equal(v("limits.memory", "1Gi"), "7", "no memory limit: allocatable");
  assert.equal(v("limits.memory"), String(7 * 2 ** 30));
  assert.equal(v("limits.ephemeral-storage", "1Gi"), "50");
  assert.equal(v("requests.ephemeral-storage"), "0", "no request, no limit in the spec: 0");
  assert.equal(v("requests.memory", "1Mi", "side"), "1024", "an unset request is the spec's limit");
  assert.equal(v("limits.ephemeral-storage", "1M", "side"), "2000");
  assert.equal(v("limits.cpu", "1m", "side"), "3800", "another container without a cpu limit: allocatable");
  assert.throws(() => v("limits.cpu", "", "ghost"), /container ghost not found/);
});

test("validation names the field: paths, sources, divisors, envFrom", () => {
  const p = (c: Input): string | undefined => envProblem(Container.fromPartial({ name: "c", image: "i", ...c }), "spec.containers[0]");
  const fr = (fieldPath: string, apiVersion = "") => p({ env: [{ name: "X", valueFrom: { fieldRef: { fieldPath, apiVersion } } }] });
  for (const ok of ["metadata.name", "status.podIPs", "spec.serviceAccountName", "metadata.labels['app']", "metadata.annotations['Example.com/Owner']"]) assert.equal(fr(ok), undefined, ok);
  assert.match(fr("metadata.labels")!, /^spec\.containers\[0\]\.env\[0\]\.valueFrom\.fieldRef\.fieldPath: 'metadata\.labels' is not supported/);
  assert.match(fr("spec.restartPolicy")!, /is not supported/);
  assert.match(fr("metadata.labels['bad key']")!, /invalid key subscript/);
  assert.match(fr("metadata.name['x']")!, /does not support a subscript/);
  assert.match(fr("metadata.name", "v2")!, /apiVersion: 'v2'/);
  const rf = (resource: string, divisor = "") => p({ env: [{ name: "X", valueFrom: { resourceFieldRef: { resource, divisor } } }] });
  assert.equal(rf("limits.memory", "1Mi"), undefined);
  assert.equal(rf("requests.cpu", "1m"), undefined);
  assert.match(rf("limits.cpu", "2")!, /only divisor's values 1m and 1 are supported with the cpu resource/);
  assert.match(rf("limits.memory", "3Mi")!, /supported with the memory resource/);
  assert.match(rf("limits.gpu")!, /resourceFieldRef\.resource: 'limits\.gpu' is not supported/);
  assert.match(p({ env: [{ name: "X", valueFrom: {} }] })!, /must specify one of/);
  assert.match(p({ env: [{ name: "X", valueFrom: { fieldRef: { fieldPath: "metadata.name" }, configMapKeyRef: { name: "a", key: "b" } } }] })!, /more than one/);
  assert.match(p({ env: [{ name: "X", valueFrom: { secretKeyRef: { name: "", key: "b" } } }] })!, /secretKeyRef\.name: must not be empty/);
  assert.match(p({ env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "a", key: "b/c" } } }] })!, /configMapKeyRef\.key: 'b\/c'/);
  assert.match(p({ env: [{ name: "X", value: "v", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }] })!, /env\[0\]\.valueFrom: may not be specified when `value` is not empty/, "both set is refused, as by the API server");
  assert.match(p({ envFrom: [{}] })!, /envFrom\[0\]: must specify one of: configMapRef or secretRef/);
  assert.match(p({ envFrom: [{ configMapRef: { name: "a" }, secretRef: { name: "b" } }] })!, /more than one/);
  assert.match(p({ envFrom: [{ configMapRef: { name: "a" }, prefix: "1_" }] })!, /envFrom\[0\]\.prefix: '1_'/);
  assert.equal(p({ envFrom: [{ configMapRef: { name: "a" }, prefix: "APP_" }] }), undefined);
});
