// The pod's /etc/hosts, managed as the kubelet does (kubelet_pods.go
// makeHostsMount): a file in the pod's directory, bind-mounted over each
// container's /etc/hosts. Without it a container gets the runtime's copy of
// the node's file, where its own hostname does not resolve (many servers look
// their own name up at start) and spec.hostAliases has nowhere to go.
import { chmod, readFile, writeFile } from "node:fs/promises";
import type { Container, HostAlias } from "@plasmacloud/proto/k8shost";

export const HOSTS_PATH = "/etc/hosts";

/** What the file says of the pod itself. */
export interface PodHosts {
  /** The pod's addresses (a host-network pod: none needed, the node's file is the base). */
  ips: string[];
  hostName: string;
  /** `<subdomain>.<namespace>.svc.<cluster domain>` when the pod names a subdomain, else "". */
  hostDomain: string;
  hostAliases: readonly HostAlias[];
  hostNetwork: boolean;
}

/** managedHostsFileContent: the kubelet's lines, byte for byte. */
export function managedHostsContent(h: PodHosts): string {
  const lines = [
    "# Kubernetes-managed hosts file.",
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "fe00::0\tip6-mcastprefix",
    "fe00::1\tip6-allnodes",
    "fe00::2\tip6-allrouters",
  ];
  for (const ip of h.ips) lines.push(h.hostDomain ? `${ip}\t${h.hostName}.${h.hostDomain}\t${h.hostName}` : `${ip}\t${h.hostName}`);
  return `${lines.join("\n")}\n${aliasLines(h.hostAliases)}`;
}

/** nodeHostsFileContent: a host-network pod sees the node's file, and its aliases after it. */
export function hostNetworkHostsContent(nodeHosts: string, aliases: readonly HostAlias[]): string {
  return `# Kubernetes-managed hosts file (host network).\n${nodeHosts}${aliasLines(aliases)}`;
}

function aliasLines(aliases: readonly HostAlias[]): string {
  if (aliases.length === 0) return "";
  return `\n# Entries added by HostAliases.\n${aliases.map((a) => `${a.ip}\t${a.hostnames.join("\t")}\n`).join("")}`;
}

/** The kubelet mounts the file unless the container mounts something at /etc/hosts itself. */
export function mountsOwnHosts(c: Container): boolean {
  return c.volumeMounts.some((m) => m.mountPath.replace(/\/+$/, "") === HOSTS_PATH);
}

/**
 * Writes the file when its content differs, in place: running containers
 * bind-mount this inode, so a rename would leave them the old one. Mode 0644,
 * as the kubelet's.
 */
export async function ensureHostsFile(path: string, h: PodHosts, nodeHostsPath = HOSTS_PATH): Promise<void> {
  const content = h.hostNetwork ? hostNetworkHostsContent(await readFile(nodeHostsPath, "utf8"), h.hostAliases) : managedHostsContent(h);
  const current = await readFile(path, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });
  if (current === content) return;
  await writeFile(path, content, { mode: 0o644 });
  await chmod(path, 0o644); // writeFile's mode applies only to a new file, and through the umask
}
