// `k8shost-agent services list|get|delete` as a user runs them, against the
// control-plane stand-in (in-process): kubectl's columns, the cluster IP the
// control plane allocated, and a delete that releases it.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startControlPlaneStandIn, type ControlPlaneStandIn } from "../../../stand-ins/src/controlplane/server";
import { TokenStore } from "../../../stand-ins/src/iam/tokens";
import { cliArgv, runCli } from "../helpers/cli";

let cp: ControlPlaneStandIn;
let dir: string;

before(async () => {
  cp = await startControlPlaneStandIn({ tokens: new TokenStore().add("alice-token", { name: "user:alice", kind: "user", orgId: "o1", projectId: "p1" }) });
  dir = mkdtempSync(join(tmpdir(), "cli-services-"));
  writeFileSync(join(dir, "token"), "alice-token");
  process.env.K8SHOST_SERVER_ADDR = cp.address;
  process.env.K8SHOST_TOKEN_FILE = join(dir, "token");
});

after(async () => {
  await cp.stop();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli(cliArgv(args));

test("services: created with create -f, listed with kubectl's columns, shown as JSON, deleted", async () => {
  const file = join(dir, "svc.yaml");
  writeFileSync(file, "apiVersion: v1\nkind: Service\nmetadata: { name: web }\nspec: { selector: { app: web }, ports: [{ name: http, port: 80, targetPort: 8080 }, { name: dns, port: 53, protocol: UDP }] }\n");
  const made = await cli("create", "-f", file);
  assert.equal(made.code, 0, made.stderr);

  const got = await cli("services", "get", "web", "-o", "json");
  assert.equal(got.code, 0, got.stderr);
  const ip = (JSON.parse(got.stdout) as { spec: { clusterIP: string } }).spec.clusterIP;
  assert.match(ip, /^10\.96\.\d+\.\d+$/, "a cluster IP from the service range");

  const list = await cli("svc", "list");
  assert.equal(list.code, 0, list.stderr);
  const [head, row] = list.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/));
  assert.deepEqual(head, ["NAME", "TYPE", "CLUSTER-IP", "PORT(S)", "AGE"]);
  assert.deepEqual(row!.slice(0, 4), ["web", "ClusterIP", ip, "80/TCP,53/UDP"]);

  const del = await cli("services", "delete", "web");
  assert.equal(del.stdout.trim(), "service/web deleted");
  const gone = await cli("services", "get", "web");
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /not found/i);
});
