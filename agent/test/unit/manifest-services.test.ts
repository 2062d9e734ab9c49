// Service and EndpointSlice manifests as kubectl users write them: Kubernetes'
// JSON names (clusterIP, targetPort as a number or a name, clientIP), the
// discovery.k8s.io/v1 group for slices, and strict errors naming the field.
import { test } from "node:test";
import assert from "node:assert/strict";
import { errorCode } from "@plasmacloud/common/errors";
import { decodeManifests, KINDS } from "../../src/manifest/decode";

const decode = (text: string) => decodeManifests(text, "m.yaml", { accept: KINDS, namespace: "default" });

function errorOf(text: string): string {
  try {
    decode(text);
  } catch (err) {
    assert.equal(errorCode(err), "InvalidArgument");
    return (err as Error).message;
  }
  assert.fail("the file was accepted");
}

test("a Service manifest in Kubernetes' own form becomes the contract's Service", () => {
  const [o] = decode(`
apiVersion: v1
kind: Service
metadata: { name: web, labels: { app: web } }
spec:
  type: NodePort
  selector: { app: web }
  ports:
    - { name: http, port: 80, targetPort: http, nodePort: 30080 }
    - { name: metrics, protocol: UDP, port: 9100, targetPort: 9100 }
  sessionAffinity: ClientIP
  sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } }
---
apiVersion: v1
kind: Service
metadata: { name: db }
spec: { clusterIP: None, selector: { app: db } }
`);
  assert.equal(o?.kind, "Service");
  if (o?.kind !== "Service") return;
  const s = o.object.spec!;
  assert.equal(o.object.metadata!.namespace, "default");
  assert.deepEqual(s.ports.map((p) => [p.name, p.protocol, p.port, p.targetPort, p.nodePort]), [["http", "", 80, "http", 30080], ["metrics", "UDP", 9100, "9100", 0]]);
  assert.equal(s.sessionAffinityConfig!.clientIp!.timeoutSeconds, 600);
  const [, db] = decode(`apiVersion: v1\nkind: Service\nmetadata: { name: a }\nspec: { ports: [{ port: 1 }] }\n---\napiVersion: v1\nkind: Service\nmetadata: { name: db }\nspec: { clusterIP: None }\n`);
  assert.equal(db?.kind === "Service" && db.object.spec!.clusterIp, "None");
});

test("an EndpointSlice manifest needs discovery.k8s.io/v1; unknown and mistyped fields are named", () => {
  const [o] = decode(`
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ext-1, labels: { kubernetes.io/service-name: ext } }
addressType: IPv4
endpoints:
  - addresses: [192.0.2.10]
    conditions: { ready: true }
ports: [{ name: "", protocol: TCP, port: 5432 }]
`);
  assert.equal(o?.kind, "EndpointSlice");
  if (o?.kind === "EndpointSlice") assert.deepEqual(o.object.endpoints[0]!.addresses, ["192.0.2.10"]);
  assert.match(errorOf("apiVersion: v1\nkind: EndpointSlice\nmetadata: { name: x }\n"), /apiVersion "v1" is not served for EndpointSlice \(want discovery\.k8s\.io\/v1\)/);
  assert.match(errorOf("apiVersion: v1\nkind: Service\nmetadata: { name: x }\nspec: { externalTrafficPolicy: Local }\n"), /doc 1 \(Service x\): spec\.externalTrafficPolicy: unknown field/);
  assert.match(errorOf("apiVersion: v1\nkind: Service\nmetadata: { name: x }\nspec: { clusterIp: 1, ports: [{ port: http }] }\n"), /spec\.ports\[0\]\.port: /);
});
