// Images from real registries through CRI PullImage: pull secrets for a
// registry with auth, pull policies, and bad input (unknown image, a command
// that does not exist, an invalid spec) failing only the pod concerned, with a
// clear reason, while a healthy pod keeps being served.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { CreateSecretRequest } from "@plasmacloud/proto/k8shost";
import { AUTH_REGISTRY, BUSYBOX, REGISTRY, startCluster, waitFor, type Cluster } from "../helpers/cluster";
import { containersOf, isRunning, purgeNode, sandboxesOf } from "../helpers/cri";

const USER = process.env.AUTH_REGISTRY_USER ?? "puller";
const PASSWORD = process.env.AUTH_REGISTRY_PASSWORD ?? "pull-secret-pw";
const PRIVATE = `${AUTH_REGISTRY}/private/busybox:1.0`;

let c: Cluster;
before(async () => {
  c = await startCluster();
  const dockerconfig = JSON.stringify({ auths: { [AUTH_REGISTRY]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString("base64") } } });
  await c.user.call(
    "CreateSecret",
    c.user.secrets.createSecret.bind(c.user.secrets),
    CreateSecretRequest.fromPartial({ secret: { metadata: { name: "regcred", namespace: "default" }, type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": Buffer.from(dockerconfig) } } }),
  );
});
after(async () => {
  await c.close();
  await purgeNode(c.nodeName);
});

const waiting = async (name: string, reason: RegExp) => {
  const p = await c.getPod(name);
  const w = p?.status?.containerStatuses[0]?.state?.waiting;
  return w && reason.test(w.reason) ? w : undefined;
};

test("a private registry: no secret fails the pull with its cause (ErrImagePull, ImagePullBackOff); the pull secret gets the image", async () => {
  // One at a time: containerd joins concurrent pulls of one reference, so an
  // unauthenticated pull racing an authenticated one would succeed (KEP-2535).
  await c.createPod({ metadata: { name: "nosecret" }, spec: { containers: [{ name: "c", image: PRIVATE, imagePullPolicy: "Always", command: ["sleep", "3600"] }] } });
  // ErrImagePull, then ImagePullBackOff at the next sync; either way the status says why.
  const first = await waitFor("a pull failure", () => waiting("nosecret", /^(ErrImagePull|ImagePullBackOff)$/));
  assert.match(first.message, /private\/busybox:1\.0.*(401|[Uu]nauthorized)/);
  const backoff = await waitFor("ImagePullBackOff", () => waiting("nosecret", /^ImagePullBackOff$/), 20_000);
  assert.match(backoff.message, /Back-off pulling image .*(401|[Uu]nauthorized)/);
  const p = await c.getPod("nosecret");
  assert.equal(p?.status?.phase, "Pending");
  assert.equal((await containersOf(p!.metadata!.uid)).length, 0, "no container without its image");
  await c.deletePod("nosecret", 0);

  await c.createPod({ metadata: { name: "withsecret" }, spec: { imagePullSecrets: [{ name: "regcred" }], containers: [{ name: "c", image: PRIVATE, imagePullPolicy: "Always", command: ["sleep", "3600"] }] } });
  await waitFor("withsecret Running", async () => (await c.getPod("withsecret"))?.status?.phase === "Running");
  await c.deletePod("withsecret", 0);
});

test("pull policy Never: a missing image is ErrImageNeverPull, a present one runs", async () => {
  await c.createPod({ metadata: { name: "never-missing" }, spec: { containers: [{ name: "c", image: `${REGISTRY}/plasmacloud/not-pulled:9.9`, imagePullPolicy: "Never" }] } });
  // Present: the busybox image other tests pulled through CRI (make sure of it first).
  await c.createPod({ metadata: { name: "pull-once" }, spec: { containers: [{ name: "c", image: BUSYBOX, imagePullPolicy: "Always", command: ["true"] }], restartPolicy: "Never" } });
  await waitFor("pull-once done", async () => (await c.getPod("pull-once"))?.status?.phase === "Succeeded");
  await c.createPod({ metadata: { name: "never-present" }, spec: { containers: [{ name: "c", image: BUSYBOX, imagePullPolicy: "Never", command: ["sleep", "3600"] }] } });
  const w = await waitFor("ErrImageNeverPull", () => waiting("never-missing", /^ErrImageNeverPull$/));
  assert.match(w.message, /not present and the pull policy is Never/);
  await waitFor("never-present Running", async () => (await c.getPod("never-present"))?.status?.phase === "Running");
  for (const n of ["never-missing", "pull-once", "never-present"]) await c.deletePod(n, 0);
});

test("bad input fails only its own pod, with a reason; a healthy pod keeps running; nothing is left behind", async () => {
  const healthy = await c.createPod({ metadata: { name: "healthy" }, spec: { containers: [{ name: "c", image: BUSYBOX, command: ["sleep", "3600"] }] } });
  await waitFor("healthy Running", async () => (await c.getPod("healthy"))?.status?.phase === "Running");
  const healthyIds = (await containersOf(healthy.metadata!.uid)).map((x) => x.id);

  const unknown = await c.createPod({ metadata: { name: "unknown-image" }, spec: { containers: [{ name: "c", image: `${REGISTRY}/plasmacloud/does-not-exist:1.0` }] } });
  const nocmd = await c.createPod({ metadata: { name: "no-such-command" }, spec: { containers: [{ name: "c", image: BUSYBOX, command: ["/bin/not-here"] }] } });
  const invalid = await c.createPod({ metadata: { name: "invalid" }, spec: { containers: [{ name: "c", image: BUSYBOX, resources: { limits: { memory: "a lot" } } }] } });

  const u = await waitFor("unknown image reported", () => waiting("unknown-image", /ErrImagePull|ImagePullBackOff/));
  assert.match(u.message, /does-not-exist/);
  const n = await waitFor("missing command reported", async () => {
    const s = (await c.getPod("no-such-command"))?.status?.containerStatuses[0];
    return s?.state?.waiting?.reason === "CrashLoopBackOff" || s?.state?.waiting?.reason === "RunContainerError" || s?.state?.terminated ? s : undefined;
  });
  // As with the kubelet: the waiting state says back-off, the last termination says why.
  const why = n.lastState?.terminated?.message || n.state?.terminated?.message || n.state?.waiting?.message || "";
  assert.match(why, /not-here|no such file|executable file not found/i);
  const inv = await waitFor("invalid spec Failed", async () => {
    const p = await c.getPod("invalid");
    return p?.status?.phase === "Failed" ? p : undefined;
  });
  assert.equal(inv.status!.reason, "InvalidPodSpec");
  assert.match(inv.status!.message, /spec\.containers\[0\]\.resources\.limits\.memory: 'a lot' is not a valid quantity/);
  assert.equal((await sandboxesOf(invalid.metadata!.uid)).length, 0, "an invalid pod gets no sandbox");

  const now = await containersOf(healthy.metadata!.uid);
  assert.deepEqual(now.map((x) => x.id), healthyIds, "the healthy pod was not touched");
  assert.ok(now.every(isRunning));

  const badSandboxes = (await Promise.all([unknown, nocmd, invalid].map((p) => sandboxesOf(p.metadata!.uid)))).flat().map((x) => x.id);
  for (const name of ["unknown-image", "no-such-command", "invalid"]) await c.deletePod(name, 0);
  for (const p of [unknown, nocmd, invalid]) {
    await waitFor(`${p.metadata!.name} cleaned up`, async () => (await sandboxesOf(p.metadata!.uid)).length === 0 && (await containersOf(p.metadata!.uid)).length === 0, 20_000);
  }
  assert.ok(badSandboxes.length >= 2, "the image and command failures had sandboxes");
  assert.deepEqual(c.novanet.ports().filter((port) => badSandboxes.includes(port.deviceId)), [], "their NovaNET ports are released");
  const [healthySandbox] = await sandboxesOf(healthy.metadata!.uid);
  assert.equal(c.novanet.ports().filter((port) => port.deviceId === healthySandbox!.id).length, 1, "the healthy pod keeps its port");
  await c.deletePod("healthy", 0);
});
