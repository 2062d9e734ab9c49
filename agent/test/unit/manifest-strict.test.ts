// The strict walk against the contract's descriptors: every field the contract
// lacks and every value fromJSON would bend or drop is named with its path.
import { test } from "node:test";
import assert from "node:assert/strict";
import { create, createFileRegistry } from "@bufbuild/protobuf";
import { FieldDescriptorProto_Label as L, FieldDescriptorProto_Type as T, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { k8shostMessage } from "@plasmacloud/proto/k8shost/descriptor";
import { checkMessage, renderIssue, MAX_ISSUES } from "../../src/manifest/strict";

const check = (message: string, value: unknown): string[] => checkMessage(k8shostMessage(message), value).map(renderIssue);

const pod = (container: Record<string, unknown>, spec: Record<string, unknown> = {}): Record<string, unknown> => ({
  metadata: { name: "web" },
  spec: { containers: [{ name: "c", image: "busybox" }, { name: "app", image: "busybox", ...container }], ...spec },
});

test("a valid pod has no issues", () => {
  assert.deepEqual(check("Pod", pod({ command: ["sh"], ports: [{ containerPort: 80 }] })), []);
});

test("an unknown field is named with its path: top level, nested message, deep in lists", () => {
  assert.deepEqual(check("Pod", { metadata: { name: "x" }, fooBar: 1 }), ["fooBar: unknown field"]);
  assert.deepEqual(check("Pod", pod({}, { shareProcessNamespace: true })), ["spec.shareProcessNamespace: unknown field"]);
  assert.deepEqual(check("Pod", pod({}, { securityContext: { runAsUser: 1000, windowsOptions: {} } })), ["spec.securityContext.windowsOptions: unknown field"]);
  assert.deepEqual(check("Pod", pod({ fooBar: true })), ["spec.containers[1].fooBar: unknown field"]);
  assert.deepEqual(check("Pod", pod({ volumeMounts: [{ name: "v", mountPath: "/v" }, { name: "w", mountPath: "/w", mountPropagation: "Bidirectional" }] })), [
    "spec.containers[1].volumeMounts[1].mountPropagation: unknown field",
  ]);
  // Every problem of a document is listed, not only the first.
  assert.deepEqual(check("Pod", pod({ a: 1, b: 2 }, { c: 3 })), ["spec.containers[1].a: unknown field", "spec.containers[1].b: unknown field", "spec.c: unknown field"]);
});

test("a case slip names the field meant", () => {
  assert.deepEqual(check("Pod", pod({ imagepullpolicy: "Always" })), ['spec.containers[1].imagepullpolicy: unknown field (did you mean "imagePullPolicy"?)']);
});

test("JSON names and proto names are both accepted; one field given by both is an error", () => {
  assert.deepEqual(check("Pod", pod({ image_pull_policy: "Always", volume_mounts: [{ name: "v", mount_path: "/v", read_only: true }], ports: [{ container_port: 80, hostIp: "0.0.0.0" }] })), []);
  assert.deepEqual(check("ContainerPort", { containerPort: 80, container_port: 81 }), ["container_port: set twice (also as containerPort)"]);
});

test("wrong types say what was expected and what was found", () => {
  assert.deepEqual(check("Pod", pod({ command: "sleep 10" })), ['spec.containers[1].command: expected a list of strings, got a string ("sleep 10")']);
  assert.deepEqual(check("Pod", pod({ command: ["sleep", 10] })), ["spec.containers[1].command[1]: expected a string, got a number (10)"]);
  assert.deepEqual(check("Pod", pod({ env: [{ name: "A", value: 1 }] })), ["spec.containers[1].env[0].value: expected a string, got a number (1)"]);
  assert.deepEqual(check("Pod", pod({ ports: [{ containerPort: "http" }] })), ['spec.containers[1].ports[0].containerPort: expected an integer (int32), got a string ("http")']);
  assert.deepEqual(check("Pod", pod({ ports: [{ containerPort: 1.5 }] })), ["spec.containers[1].ports[0].containerPort: expected an integer (int32), got a number (1.5)"]);
  assert.deepEqual(check("Pod", pod({ ports: [{ containerPort: 2 ** 31 }] })), ["spec.containers[1].ports[0].containerPort: 2147483648 is out of range for int32"]);
  assert.deepEqual(check("Pod", pod({ resources: { limits: ["cpu"] } })), ["spec.containers[1].resources.limits: expected a map of strings, got a list"]);
  assert.deepEqual(check("Pod", pod({ resources: { limits: { cpu: true } } })), ['spec.containers[1].resources.limits["cpu"]: expected a string, got a boolean (true)']);
  assert.deepEqual(check("Pod", { metadata: { name: "x", labels: { tier: 1 } } }), ['metadata.labels["tier"]: expected a string, got a number (1)']);
  assert.deepEqual(check("Pod", pod({ volumeMounts: [{ name: "v", mountPath: "/v", readOnly: "yes" }] })), ['spec.containers[1].volumeMounts[0].readOnly: expected a boolean, got a string ("yes")']);
  assert.deepEqual(check("Pod", { metadata: { name: "x" }, spec: { containers: [null] } }), ["spec.containers[0]: expected an object (Container), got null"]);
  assert.deepEqual(check("Pod", { metadata: "x" }), ['metadata: expected an object (ObjectMeta), got a string ("x")']);
  assert.deepEqual(check("Pod", [1]), ["expected an object (Pod), got a list"]);
});

test("null is unset, as in protobuf JSON (YAML's `key:` with nothing after it)", () => {
  assert.deepEqual(check("Pod", { metadata: { name: "x", labels: null }, spec: { containers: null, volumes: null } }), []);
});

test("int64: a number or a numeric string; precision lost past 2^53 is an error, not a different number", () => {
  assert.deepEqual(check("ObjectMeta", { deletionGracePeriodSeconds: 30, generation: "9007199254740993" }), []);
  assert.deepEqual(check("ObjectMeta", { generation: "12a" }), ['generation: expected an integer (int64), got a string ("12a")']);
  assert.deepEqual(check("ObjectMeta", { generation: 2 ** 60 }), ["generation: 1152921504606847000 is past 2^53, where a number is rounded when read: write the digits as a quoted string"]);
  assert.deepEqual(check("ObjectMeta", { generation: "9223372036854775808" }), ["generation: 9223372036854775808 is out of range for int64"]);
});

test("Timestamp is an RFC 3339 string", () => {
  assert.deepEqual(check("ObjectMeta", { creationTimestamp: "2024-05-01T10:00:00Z", deletionTimestamp: "2024-05-01T10:00:00.5+02:00" }), []);
  assert.deepEqual(check("ObjectMeta", { creationTimestamp: "yesterday" }), ['creationTimestamp: expected an RFC 3339 timestamp (2006-01-02T15:04:05Z), got a string ("yesterday")']);
  assert.deepEqual(check("ObjectMeta", { creationTimestamp: { seconds: 1 } }), ["creationTimestamp: expected an RFC 3339 timestamp (2006-01-02T15:04:05Z), got an object"]);
});

test("bytes are base64 (standard or URL-safe, padding and line breaks optional)", () => {
  assert.deepEqual(check("Secret", { data: { a: "aGVsbG8=", b: "aGVsbG8", c: "aGVs\nbG8=", d: "-_-_" } }), []);
  assert.deepEqual(check("Secret", { data: { a: "hello world" } }), ['data["a"]: expected base64-encoded bytes, got a string ("hello world")']);
  assert.deepEqual(check("ConfigMap", { binaryData: { a: "abcde" } }), ['binaryData["a"]: expected base64-encoded bytes, got a string ("abcde")']);
});

test("an enum takes its value names (or numbers); an unknown value names the allowed ones", () => {
  assert.deepEqual(check("WatchEvent", { type: "ADDED" }), []);
  assert.deepEqual(check("WatchEvent", { type: 3 }), []);
  assert.deepEqual(check("WatchEvent", { type: "ADD" }), ['type: unknown value "ADD" (allowed: TYPE_UNSPECIFIED, ADDED, MODIFIED, DELETED, BOOKMARK)']);
  assert.deepEqual(check("WatchEvent", { type: 9 }), ["type: unknown value 9 (allowed: TYPE_UNSPECIFIED, ADDED, MODIFIED, DELETED, BOOKMARK)"]);
  assert.deepEqual(check("WatchEvent", { type: true }), ["type: expected a WatchEvent.Type value (allowed: TYPE_UNSPECIFIED, ADDED, MODIFIED, DELETED, BOOKMARK), got a boolean (true)"]);
});

test("a huge bad document stops at MAX_ISSUES", () => {
  const bad = Object.fromEntries(Array.from({ length: MAX_ISSUES * 3 }, (_, i) => [`f${i}`, i]));
  assert.equal(check("Pod", bad).length, MAX_ISSUES);
});

// The k8shost contract has no map of messages, no oneof and no enum inside a
// list: a small contract of the same shapes checks the walk there too.
function testContract() {
  const opt = (name: string, number: number, type: T, extra: Record<string, unknown> = {}) => ({ name, number, type, label: L.OPTIONAL, ...extra });
  const file = create(FileDescriptorProtoSchema, {
    name: "t/t.proto",
    package: "t",
    syntax: "proto3",
    enumType: [{ name: "Color", value: [{ name: "COLOR_UNSPECIFIED", number: 0 }, { name: "RED", number: 1 }] }],
    messageType: [
      { name: "Inner", field: [opt("size_limit", 1, T.STRING, { jsonName: "sizeLimit" }), opt("count", 2, T.UINT64, { jsonName: "count" })] },
      {
        name: "Outer",
        field: [
          { name: "inners", number: 1, type: T.MESSAGE, typeName: ".t.Outer.InnersEntry", label: L.REPEATED, jsonName: "inners" },
          { name: "colors", number: 2, type: T.ENUM, typeName: ".t.Color", label: L.REPEATED, jsonName: "colors" },
          opt("by_name", 3, T.STRING, { jsonName: "byName", oneofIndex: 0 }),
          opt("by_id", 4, T.INT32, { jsonName: "byId", oneofIndex: 0 }),
          { name: "ids", number: 5, type: T.MESSAGE, typeName: ".t.Outer.IdsEntry", label: L.REPEATED, jsonName: "ids" },
        ],
        oneofDecl: [{ name: "target" }],
        nestedType: [
          { name: "InnersEntry", options: { mapEntry: true }, field: [opt("key", 1, T.STRING, { jsonName: "key" }), opt("value", 2, T.MESSAGE, { typeName: ".t.Inner", jsonName: "value" })] },
          { name: "IdsEntry", options: { mapEntry: true }, field: [opt("key", 1, T.INT32, { jsonName: "key" }), opt("value", 2, T.BOOL, { jsonName: "value" })] },
        ],
      },
    ],
  });
  return createFileRegistry(file, () => undefined).getMessage("t.Outer")!;
}

test("maps of messages, enums in lists, int map keys, oneofs", () => {
  const outer = testContract();
  const c = (v: unknown): string[] => checkMessage(outer, v).map(renderIssue);
  assert.deepEqual(c({ inners: { a: { sizeLimit: "1Gi", count: "7" }, b: { size_limit: "2Gi" } }, colors: ["RED", 0], byName: "x", ids: { "12": true } }), []);
  assert.deepEqual(c({ inners: { a: { sizeLimit: "1Gi", medium: "Memory" } } }), ['inners["a"].medium: unknown field']);
  assert.deepEqual(c({ inners: { a: "1Gi" } }), ['inners["a"]: expected an object (Inner), got a string ("1Gi")']);
  assert.deepEqual(c({ inners: { a: { count: -1 } } }), ['inners["a"].count: -1 is out of range for uint64']);
  assert.deepEqual(c({ inners: ["a"] }), ["inners: expected a map of objects (Inner), got a list"]);
  assert.deepEqual(c({ colors: ["RED", "BLUE"] }), ['colors[1]: unknown value "BLUE" (allowed: COLOR_UNSPECIFIED, RED)']);
  assert.deepEqual(c({ ids: { x: true } }), ['ids["x"]: bad key: expected an integer (int32), got a string ("x")']);
  assert.deepEqual(c({ byName: "x", by_id: 3 }), ["only one of byName, by_id may be set (oneof target)"]);
  assert.deepEqual(c({ byName: "x", byId: null }), []);
});

test("IntOrString ports and quantities may be numbers, as kubectl takes them; they become strings", () => {
  const doc = pod({
    resources: { limits: { cpu: 1, memory: "64Mi" }, requests: { cpu: 0.5 } },
    livenessProbe: { httpGet: { path: "/healthz", port: 8080 }, periodSeconds: 5 },
    readinessProbe: { tcpSocket: { port: "http" } },
  });
  assert.deepEqual(check("Pod", doc), []);
  const c = ((doc.spec as { containers: Record<string, Record<string, Record<string, unknown>>>[] }).containers[1])!;
  assert.deepEqual(c.resources!.limits, { cpu: "1", memory: "64Mi" });
  assert.deepEqual(c.resources!.requests, { cpu: "0.5" });
  assert.equal((c.livenessProbe!.httpGet as Record<string, unknown>).port, "8080");
  // Other strings still refuse a number, and a port cannot be an object.
  assert.deepEqual(check("Pod", pod({ image: 5 })), ["spec.containers[1].image: expected a string, got a number (5)"]);
  assert.deepEqual(check("Pod", pod({ livenessProbe: { tcpSocket: { port: { n: 1 } } } })), ["spec.containers[1].livenessProbe.tcpSocket.port: expected a string, got an object"]);
});
