// `k8shost-agent create -f` and `pods create -f` as a user runs them: the CLI
// as a child process against the control-plane stand-in (in-process), results
// read from the stand-in's store. No containerd needed.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startControlPlaneStandIn, type ControlPlaneStandIn } from "../../../stand-ins/src/controlplane/server";
import { TokenStore } from "../../../stand-ins/src/iam/tokens";

const repo = new URL("../../../", import.meta.url).pathname;
let cp: ControlPlaneStandIn;
let dir: string;

before(async () => {
  const tokens = new TokenStore().add("alice-token", { name: "user:alice", kind: "user", orgId: "o1", projectId: "p1" });
  cp = await startControlPlaneStandIn({ tokens });
  dir = mkdtempSync(join(tmpdir(), "cli-create-"));
  writeFileSync(join(dir, "token"), "alice-token");
});

after(async () => {
  await cp.stop();
  rmSync(dir, { recursive: true, force: true });
});

function clearStore(): void {
  cp.store.pods.clear();
  cp.store.configMaps.clear();
  cp.store.secrets.clear();
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI from its sources, as agent/bin/k8shost-agent runs it without a bundle. Async: the stand-in shares this event loop. */
function cli(manifest: string, ...args: string[]): Promise<Run> {
  const file = join(dir, `m-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, manifest);
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", join(repo, "agent/src/main.ts"), ...args, "-f", file], {
      cwd: repo,
      env: { ...process.env, K8SHOST_SERVER_ADDR: cp.address, K8SHOST_TOKEN_FILE: join(dir, "token") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill("SIGKILL"), 60_000);
    p.on("error", reject);
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : Buffer.from(b).toString("utf8"));

const APP = `
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: { app: web }
spec:
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "sleep 1h"]
    env: [{ name: MODE, value: fast }]
    volumeMounts: [{ name: settings, mountPath: /etc/app }, { name: creds, mountPath: /etc/creds }]
  volumes:
  - name: settings
    configMap: { name: settings }
  - name: creds
    secret: { secretName: creds, defaultMode: 0400 }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: settings }
data:
  mode: fast
---
apiVersion: v1
kind: Secret
metadata: { name: creds }
type: Opaque
data:
  username: ${Buffer.from("admin").toString("base64")}
stringData:
  password: s3cr3t
`;

const SECURITY_CONTEXT_POD = `
apiVersion: v1
kind: Pod
metadata:
  name: security-context-demo
spec:
  securityContext:
    runAsUser: 1000
    fsGroup: 2000
  containers:
  - name: sec-ctx-demo
    image: busybox:1.28
    command: [ "sh", "-c", "sleep 1h" ]
`;

test("create -f with a Pod, a ConfigMap and a Secret creates all three, config first", async () => {
  clearStore();
  const r = await cli(APP, "create");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "configmap/settings created\nsecret/creds created\npod/web created\n");
  const pod = cp.store.pods.get("o1/p1/default/web");
  assert.deepEqual(pod?.spec?.containers[0]?.command, ["sh", "-c", "sleep 1h"]);
  assert.equal(pod?.spec?.volumes[1]?.secret?.defaultMode, 0o400);
  assert.deepEqual(cp.store.configMaps.get("o1/p1/default/settings")?.data, { mode: "fast" });
  const secret = cp.store.secrets.get("o1/p1/default/creds");
  assert.equal(secret?.type, "Opaque");
  assert.equal(text(secret?.data["username"]), "admin");
  assert.equal(text(secret?.data["password"]), "s3cr3t");

  // Again: the control plane refuses each (already exists); all are tried and reported.
  const again = await cli(APP, "create");
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /3 of 3 objects not created/);
  assert.match(again.stderr, /pod\/web: .*already exists/);
});

// A security field the contract lacks: the pod would run with less protection than it asked for.
const SELINUX_POD = SECURITY_CONTEXT_POD.replace("    fsGroup: 2000\n", "    fsGroup: 2000\n    seLinuxOptions: { level: \"s0:c123,c456\" }\n");

test("a pod with securityContext (runAsUser, fsGroup) is created with it", async () => {
  clearStore();
  const r = await cli(SECURITY_CONTEXT_POD, "pods", "create");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "pod/security-context-demo created\n");
  const sc = cp.store.pods.get("o1/p1/default/security-context-demo")?.spec?.securityContext;
  assert.equal(sc?.runAsUser, 1000n);
  assert.equal(sc?.fsGroup, 2000n);
  assert.equal(sc?.runAsGroup, undefined);
});

test("a pod with a security field the contract lacks fails the whole file: non-zero exit, the field named, nothing created", async () => {
  clearStore();
  const file = APP.replace("metadata:\n  name: web", "metadata:\n  name: web2") + "---\n" + SELINUX_POD;
  const r = await cli(file, "create");
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /doc 4 \(Pod security-context-demo\): spec\.securityContext\.seLinuxOptions: unknown field/);
  assert.equal(r.stdout, "");
  assert.equal(cp.store.pods.size + cp.store.configMaps.size + cp.store.secrets.size, 0, "nothing created, not even the valid documents");
});

test("pods create -f: a manifest without apiVersion/kind still works, -n is the default namespace, other kinds are refused", async () => {
  clearStore();
  const sample = "metadata: { name: hello, labels: { app: hello } }\nspec:\n  containers:\n    - name: web\n      image: busybox\n      ports: [{ containerPort: 8080 }]\n";
  const r = await cli(sample, "pods", "create", "-n", "team");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "pod/hello created\n");
  assert.equal(cp.store.pods.get("o1/p1/team/hello")?.spec?.containers[0]?.ports[0]?.containerPort, 8080);

  const bad = await cli(`${sample}---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\n`, "pods", "create");
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /doc 2 \(ConfigMap c\): kind "ConfigMap" is not accepted here \(accepted: Pod\)/);
  const strict = await cli(SELINUX_POD, "pods", "create");
  assert.notEqual(strict.code, 0);
  assert.match(strict.stderr, /spec\.securityContext\.seLinuxOptions: unknown field/);
  assert.equal(cp.store.pods.size, 1);
  assert.equal(cp.store.configMaps.size, 0);
});
