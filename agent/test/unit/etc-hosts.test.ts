// The pod's managed /etc/hosts: the kubelet's bytes (managedHostsFileContent,
// nodeHostsFileContent), written in place only when it changes, mode 0644;
// which pods and containers get it; the spec's hostAliases validated.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Container, Pod, type HostAlias } from "@plasmacloud/proto/k8shost";
import { podHosts } from "../../src/pods/spec";
import { validatePod } from "../../src/pods/validate";
import { ensureHostsFile, hostNetworkHostsContent, managedHostsContent, mountsOwnHosts } from "../../src/volumes/etc-hosts";

const BASE = "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n";
const pod = (spec: Partial<Pod["spec"]> = {}): Pod => Pod.fromPartial({ metadata: { name: "web-0", namespace: "shop", uid: "u1" }, spec: { containers: [{ name: "c", image: "i" }], ...spec } });

test("the kubelet's content: the pod's name and address; with a subdomain its FQDN first; aliases after a blank line", () => {
  assert.equal(managedHostsContent(podHosts(pod(), ["10.77.0.5"], "cluster.local")), `${BASE}10.77.0.5\tweb-0\n`);
  const named = podHosts(pod({ hostname: "db", subdomain: "grp", hostAliases: [{ ip: "10.1.2.3", hostnames: ["foo.local", "bar"] }, { ip: "fd00::1", hostnames: ["six"] }] }), ["10.77.0.5"], "example.org");
  assert.equal(managedHostsContent(named), `${BASE}10.77.0.5\tdb.grp.shop.svc.example.org\tdb\n\n# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar\nfd00::1\tsix\n`);
  assert.equal(hostNetworkHostsContent("127.0.0.1 localhost\n10.0.0.9 node-a\n", [{ ip: "10.1.2.3", hostnames: ["foo"] }]), "# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n10.0.0.9 node-a\n\n# Entries added by HostAliases.\n10.1.2.3\tfoo\n");
});

test("written once per content, in place (running containers keep the same inode), mode 0644 whatever the umask", async () => {
  const dir = mkdtempSync(join(tmpdir(), "etc-hosts-"));
  try {
    const file = join(dir, "etc-hosts");
    const h = podHosts(pod(), ["10.77.0.5"], "cluster.local");
    const old = process.umask(0o077);
    try {
      await ensureHostsFile(file, h);
    } finally {
      process.umask(old);
    }
    assert.equal(statSync(file).mode & 0o777, 0o644);
    const ino = statSync(file).ino;
    const mtime = statSync(file).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    await ensureHostsFile(file, h);
    assert.equal(statSync(file).mtimeMs, mtime, "the same content is not written again");
    await ensureHostsFile(file, { ...h, ips: ["10.77.0.9"] });
    assert.equal(statSync(file).ino, ino, "rewritten in place");
    assert.match(readFileSync(file, "utf8"), /^10\.77\.0\.9\tweb-0$/m);
    const nodeHosts = join(dir, "node-hosts");
    writeFileSync(nodeHosts, "10.0.0.9 node-a\n");
    await ensureHostsFile(file, { ...h, hostNetwork: true }, nodeHosts);
    assert.equal(readFileSync(file, "utf8"), "# Kubernetes-managed hosts file (host network).\n10.0.0.9 node-a\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a container that mounts its own /etc/hosts keeps it", () => {
  assert.equal(mountsOwnHosts(Container.fromPartial({ volumeMounts: [{ name: "h", mountPath: "/etc/hosts" }] })), true);
  assert.equal(mountsOwnHosts(Container.fromPartial({ volumeMounts: [{ name: "h", mountPath: "/etc/hosts/" }] })), true);
  assert.equal(mountsOwnHosts(Container.fromPartial({ volumeMounts: [{ name: "h", mountPath: "/etc" }] })), false);
});

test("hostAliases are validated as the API server does, by field path", () => {
  const v = (hostAliases: HostAlias[]): string | undefined => validatePod(pod({ hostAliases }), () => undefined);
  assert.equal(v([{ ip: "10.1.2.3", hostnames: ["foo.local"] }, { ip: "::1", hostnames: [] }]), undefined);
  assert.equal(v([{ ip: "10.1.2", hostnames: ["a"] }]), "spec.hostAliases[0].ip: '10.1.2' must be a valid IP address");
  assert.match(v([{ ip: "10.1.2.3", hostnames: ["ok", "Bad_Name"] }]) ?? "", /^spec\.hostAliases\[0\]\.hostnames\[1\]: 'Bad_Name' is not a DNS subdomain name/);
});
