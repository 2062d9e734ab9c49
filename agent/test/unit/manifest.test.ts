// Manifest files -> contract objects: Kubernetes-style documents are taken as
// kubectl takes them, and anything the contract cannot carry is an error that
// names the document and the field, before anything is created.
import { test } from "node:test";
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { errorCode } from "@plasmacloud/common/errors";
import { ConfigMap, Pod, PodSecurityContext } from "@plasmacloud/proto/k8shost";
import { decodeManifests, KINDS, type DecodeOptions, type ManifestObject } from "../../src/manifest/decode";

const ALL: DecodeOptions = { accept: KINDS, namespace: "default" };
const PODS: DecodeOptions = { accept: ["Pod"], impliedKind: "Pod", namespace: "default" };

const decode = (text: string, opts: DecodeOptions = ALL): ManifestObject[] => decodeManifests(text, "m.yaml", opts);

/** The message of the error a bad file gives; fails the test when the file passes. */
function errorOf(text: string, opts: DecodeOptions = ALL): string {
  try {
    decode(text, opts);
  } catch (err) {
    assert.equal(errorCode(err), "InvalidArgument");
    return (err as Error).message;
  }
  assert.fail("the file was accepted");
}

// In the manner of the Kubernetes docs' examples, with every part our contract carries.
const DOCS_POD = `
apiVersion: v1
kind: Pod
metadata:
  name: frontend
  namespace: shop
  labels:
    app: frontend
    tier: web
  annotations:
    example.com/owner: team-a
spec:
  restartPolicy: OnFailure
  terminationGracePeriodSeconds: 45
  dnsPolicy: ClusterFirst
  imagePullSecrets:
  - name: regcred
  containers:
  - name: app
    image: images.my-company.example/app:v4
    imagePullPolicy: IfNotPresent
    command: ["/bin/sh", "-c"]
    args:
    - exec app --port=8080
    workingDir: /srv
    env:
    - name: DEMO_GREETING
      value: "Hello from the environment"
    ports:
    - name: http
      containerPort: 8080
      protocol: TCP
    resources:
      requests:
        memory: "64Mi"
        cpu: "250m"
      limits:
        memory: "128Mi"
        cpu: "500m"
    volumeMounts:
    - name: config
      mountPath: /etc/app
      readOnly: true
    - name: cache
      mountPath: /cache
    - name: creds
      mountPath: /etc/creds
  volumes:
  - name: config
    configMap:
      name: app-config
      items:
      - key: app.properties
        path: app.properties
  - name: cache
    emptyDir:
      medium: Memory
      sizeLimit: 64Mi
  - name: creds
    secret:
      secretName: app-creds
      defaultMode: 0400
  - name: host
    hostPath:
      path: /var/log
      type: Directory
`;

const SECURITY_CONTEXT_POD = `
apiVersion: v1
kind: Pod
metadata:
  name: security-context-demo
spec:
  securityContext:
    runAsUser: 1000
    runAsGroup: 3000
    fsGroup: 2000
  volumes:
  - name: sec-ctx-vol
    emptyDir: {}
  containers:
  - name: sec-ctx-demo
    image: busybox:1.28
    command: [ "sh", "-c", "sleep 1h" ]
    volumeMounts:
    - name: sec-ctx-vol
      mountPath: /data/demo
    securityContext:
      allowPrivilegeEscalation: false
`;

test("a Kubernetes-docs pod decodes to the Pod it describes", () => {
  const [o, ...rest] = decode(DOCS_POD);
  assert.equal(rest.length, 0);
  assert.equal(o!.kind, "Pod");
  const want = Pod.fromPartial({
    metadata: { name: "frontend", namespace: "shop", labels: { app: "frontend", tier: "web" }, annotations: { "example.com/owner": "team-a" } },
    spec: {
      restartPolicy: "OnFailure",
      terminationGracePeriodSeconds: 45n,
      dnsPolicy: "ClusterFirst",
      imagePullSecrets: [{ name: "regcred" }],
      containers: [
        {
          name: "app",
          image: "images.my-company.example/app:v4",
          imagePullPolicy: "IfNotPresent",
          command: ["/bin/sh", "-c"],
          args: ["exec app --port=8080"],
          workingDir: "/srv",
          env: [{ name: "DEMO_GREETING", value: "Hello from the environment" }],
          ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
          resources: { requests: { memory: "64Mi", cpu: "250m" }, limits: { memory: "128Mi", cpu: "500m" } },
          volumeMounts: [
            { name: "config", mountPath: "/etc/app", readOnly: true },
            { name: "cache", mountPath: "/cache" },
            { name: "creds", mountPath: "/etc/creds" },
          ],
        },
      ],
      volumes: [
        { name: "config", configMap: { name: "app-config", items: [{ key: "app.properties", path: "app.properties" }] } },
        { name: "cache", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } },
        // 0400 is octal, as kubectl reads it (YAML 1.1), not decimal 400.
        { name: "creds", secret: { secretName: "app-creds", defaultMode: 0o400 } },
        { name: "host", hostPath: { path: "/var/log", type: "Directory" } },
      ],
    },
  });
  assert.deepEqual(o!.object, want);
});

test("the docs pod with securityContext decodes to the security context it asks for", () => {
  const [o] = decode(SECURITY_CONTEXT_POD);
  const spec = (o!.object as Pod).spec!;
  assert.deepEqual(spec.securityContext, PodSecurityContext.fromPartial({ runAsUser: 1000n, runAsGroup: 3000n, fsGroup: 2000n }));
  assert.equal(spec.containers[0]!.securityContext?.allowPrivilegeEscalation, false);
  assert.equal(spec.containers[0]!.securityContext?.runAsUser, undefined, "unset stays unset: the pod's value applies");
});

test("security context fields the contract lacks are refused, naming each, so no pod runs with less than it asked for", () => {
  const pod = SECURITY_CONTEXT_POD.replace("    fsGroup: 2000\n", "    fsGroup: 2000\n    seLinuxOptions: { level: \"s0:c123,c456\" }\n").replace(
    "      allowPrivilegeEscalation: false\n",
    "      allowPrivilegeEscalation: false\n      procMount: Unmasked\n      capabilities: { add: [NET_ADMIN], drop: [ALL] }\n",
  );
  assert.equal(
    errorOf(pod),
    "m.yaml: 2 errors:\n" +
      "  doc 1 (Pod security-context-demo): spec.securityContext.seLinuxOptions: unknown field\n" +
      "  doc 1 (Pod security-context-demo): spec.containers[0].securityContext.procMount: unknown field",
  );
  const hostPID = decode("kind: Pod\napiVersion: v1\nmetadata: { name: p }\nspec: { hostPID: true, hostIPC: true, containers: [{ name: c, image: i }] }\n");
  assert.equal((hostPID[0]!.object as Pod).spec!.hostPid, true, "hostPID by its Kubernetes name");
  assert.equal((hostPID[0]!.object as Pod).spec!.hostIpc, true);
});

test("several documents: empty ones skipped, each error names its document, one bad document fails the file", () => {
  const file = `---
apiVersion: v1
kind: ConfigMap
metadata: { name: settings }
data: { mode: fast }
---
# only a comment
---
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: team }
spec: { containers: [{ name: c, image: busybox }] }
---
`;
  const objs = decode(file);
  assert.deepEqual(objs.map((o) => [o.kind, o.doc, o.object.metadata?.namespace, o.object.metadata?.name]), [
    ["ConfigMap", 1, "default", "settings"],
    ["Pod", 3, "team", "web"],
  ]);
  const bad = file.replace("image: busybox }", "image: busybox, fooBar: 1 }").replace("data: { mode: fast }", "data: { mode: fast }\nimmutable: true");
  assert.equal(bad === file, false);
  assert.equal(errorOf(bad), "m.yaml: 2 errors:\n  doc 1 (ConfigMap settings): immutable: unknown field\n  doc 3 (Pod web): spec.containers[0].fooBar: unknown field");
});

test("what `pods get -o yaml` prints, `pods create -f` reads back unchanged (timestamps, int64, status)", () => {
  const pod = Pod.fromPartial({
    metadata: { name: "p", namespace: "default", uid: "u1", resourceVersion: "7", creationTimestamp: new Date("2024-05-01T10:00:00.123Z"), deletionGracePeriodSeconds: 30n, generation: 2n },
    spec: { nodeName: "n1", containers: [{ name: "c", image: "i", ports: [{ containerPort: 80, hostPort: 8080 }] }], terminationGracePeriodSeconds: 10n },
    status: { phase: "Running", startTime: new Date("2024-05-01T10:00:01Z"), containerStatuses: [{ name: "c", ready: true, restartCount: 1, state: { running: { startedAt: new Date("2024-05-01T10:00:02Z") } } }] },
  });
  assert.deepEqual(decode(stringify(Pod.toJSON(pod)), PODS)[0]!.object, pod);
});

test("JSON is taken too", () => {
  const [o] = decode(JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "j" }, spec: { containers: [{ name: "c", image: "i", ports: [{ container_port: 80 }] }] } }));
  assert.equal(o!.kind === "Pod" && o!.object.spec?.containers[0]?.ports[0]?.containerPort, 80);
});

test("apiVersion and kind: checked and named; a kind the command does not take is an error", () => {
  assert.equal(errorOf("apiVersion: apps/v1\nkind: Pod\nmetadata: { name: web }\n"), 'm.yaml: doc 1 (Pod web): apiVersion "apps/v1" is not served for Pod (want v1)');
  assert.equal(errorOf("kind: Pod\nmetadata: { name: web }\n"), "m.yaml: doc 1 (Pod web): apiVersion is missing (want v1)");
  assert.equal(errorOf("apiVersion: v1\nmetadata: { name: web }\n"), "m.yaml: doc 1: kind is missing (accepted: Pod, ConfigMap, Secret, Service, EndpointSlice)");
  assert.equal(errorOf("apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\n"), 'm.yaml: doc 1 (Deployment web): kind "Deployment" is not supported (accepted: Pod, ConfigMap, Secret, Service, EndpointSlice)');
  assert.equal(errorOf("apiVersion: v1\nkind: [Pod]\n"), "m.yaml: doc 1: kind: expected a string, got a list");
  assert.equal(errorOf("apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\n", PODS), 'm.yaml: doc 1 (ConfigMap c): kind "ConfigMap" is not accepted here (accepted: Pod)');
});

test("pods create: apiVersion and kind may be left out (its manifests never had them), and are checked when given", () => {
  const sample = "metadata: { name: hello }\nspec: { containers: [{ name: web, image: busybox }] }\n";
  assert.equal(decode(sample, PODS)[0]!.kind, "Pod");
  assert.equal(decode(`apiVersion: v1\nkind: Pod\n${sample}`, PODS)[0]!.kind, "Pod");
  assert.equal(decode(`apiVersion: v1\n${sample}`, PODS)[0]!.kind, "Pod");
  assert.equal(errorOf(`apiVersion: v2\n${sample}`, PODS), 'm.yaml: doc 1 (Pod hello): apiVersion "v2" is not served for Pod (want v1)');
  assert.equal(errorOf(`${sample}foo: 1\n`, PODS), "m.yaml: doc 1 (Pod hello): foo: unknown field");
});

test("non-object documents, YAML syntax errors and empty files are errors", () => {
  assert.equal(errorOf("- a\n- b\n"), "m.yaml: doc 1: expected an object (a manifest), got a list");
  assert.equal(errorOf("apiVersion: v1\nkind: Pod\nmetadata: { name: a }\n---\njust text\n"), 'm.yaml: doc 2: expected an object (a manifest), got a string ("just text")');
  assert.match(errorOf("apiVersion: v1\nkind: Pod\nmetadata: { name: a, name: b }\n"), /^m\.yaml: doc 1: Map keys must be unique at line 3/);
  assert.equal(errorOf(""), "m.yaml: no objects in the file");
  assert.equal(errorOf("---\n# nothing\n---\n"), "m.yaml: no objects in the file");
});

test("names and namespaces: a name is required, one object twice is an error, -n fills in and must agree when given", () => {
  assert.equal(errorOf("apiVersion: v1\nkind: ConfigMap\ndata: { a: b }\n"), "m.yaml: doc 1 (ConfigMap): metadata.name: required");
  const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\n";
  assert.equal(errorOf(`${cm}---\n${cm}`), "m.yaml: doc 2 (ConfigMap c): the same ConfigMap as doc 1");
  assert.equal(decode(cm, { ...ALL, namespace: "team" })[0]!.object.metadata?.namespace, "team");
  // -n not given: it is only the default, and the object's own namespace stands.
  assert.equal(decode("apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c, namespace: other }\n", { ...ALL, namespace: "team" })[0]!.object.metadata?.namespace, "other");
  assert.equal(
    errorOf("apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c, namespace: other }\n", { ...ALL, namespace: "team", namespaceExplicit: true }),
    'm.yaml: doc 1 (ConfigMap c): metadata.namespace "other" differs from the namespace asked for ("team")',
  );
});

test("Secret: data is base64, stringData plain text and wins on a shared key; both checked", () => {
  const [o] = decode(`
apiVersion: v1
kind: Secret
metadata: { name: creds }
type: Opaque
data:
  username: ${Buffer.from("admin").toString("base64")}
  password: ${Buffer.from("old").toString("base64")}
stringData:
  password: "s3cr3t: yes"
  config.yaml: |
    apiUrl: https://example.com
`);
  if (o?.kind !== "Secret") return assert.fail(`decoded ${o?.kind}, not a Secret`);
  assert.equal(o.object.type, "Opaque");
  assert.deepEqual(
    Object.fromEntries(Object.entries(o.object.data).map(([k, v]) => [k, Buffer.from(v).toString("utf8")])),
    { username: "admin", password: "s3cr3t: yes", "config.yaml": "apiUrl: https://example.com\n" },
  );
  assert.equal(
    errorOf("apiVersion: v1\nkind: Secret\nmetadata: { name: s }\ndata: { a: not base64! }\nstringData: { b: 3 }\n"),
    'm.yaml: 2 errors:\n  doc 1 (Secret s): data["a"]: expected base64-encoded bytes, got a string ("not base64!")\n  doc 1 (Secret s): stringData["b"]: expected a string, got a number (3)',
  );
  assert.equal(errorOf("apiVersion: v1\nkind: Secret\nmetadata: { name: s }\nstringData: [a]\n"), "m.yaml: doc 1 (Secret s): stringData: expected a map of strings, got a list");
});

test("ConfigMap: data plain, binaryData base64", () => {
  const [o] = decode(`apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\ndata: { a: "1" }\nbinaryData: { b: ${Buffer.from([0, 1, 2]).toString("base64")} }\n`);
  assert.equal(o!.kind, "ConfigMap");
  const cm = o!.object as ConfigMap;
  assert.deepEqual(cm.data, { a: "1" });
  assert.deepEqual([...cm.binaryData["b"]!], [0, 1, 2]);
  // A number where the contract wants a string: kubectl refuses it too.
  assert.equal(errorOf("apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\ndata: { a: 1 }\n"), 'm.yaml: doc 1 (ConfigMap c): data["a"]: expected a string, got a number (1)');
});
