// The host's resolver configuration, which pods with dnsPolicy Default (or
// ClusterFirst on a node without cluster DNS) inherit. Read once and again
// only when the file changes (at most one stat a second), not once per
// container on every sync.
import { readFileSync, statSync } from "node:fs";

export interface DnsConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

/** What the spec builder needs: the host's current DNS settings. */
export interface HostDns {
  current(): DnsConfig;
}

export function parseResolvConf(text: string): DnsConfig {
  const out: DnsConfig = { servers: [], searches: [], options: [] };
  for (const line of text.split("\n")) {
    const [k, ...rest] = line.trim().split(/\s+/);
    if (k === "nameserver" && rest[0]) out.servers.push(rest[0]);
    else if (k === "search") out.searches = rest;
    else if (k === "options") out.options.push(...rest);
  }
  return out;
}

export class HostResolvConf implements HostDns {
  private config: DnsConfig = { servers: [], searches: [], options: [] };
  private stamp: string | undefined;
  private checkedAt = 0;

  constructor(readonly path = "/etc/resolv.conf", private readonly recheckMs = 1000) {}

  current(): DnsConfig {
    const now = Date.now();
    if (this.stamp === undefined || now - this.checkedAt >= this.recheckMs) {
      this.checkedAt = now;
      this.refresh();
    }
    // A copy: callers put it into requests they may change.
    return { servers: [...this.config.servers], searches: [...this.config.searches], options: [...this.config.options] };
  }

  private refresh(): void {
    let stamp: string;
    try {
      // stat follows the symlink systemd-resolved and resolvconf make; a rename over the file changes ino.
      const st = statSync(this.path);
      stamp = `${st.ino}:${st.mtimeMs}:${st.size}`;
    } catch {
      stamp = "missing";
    }
    if (stamp === this.stamp) return;
    let text = "";
    try {
      text = readFileSync(this.path, "utf8");
    } catch {
      // No resolv.conf: no host DNS, as the kubelet does.
    }
    this.config = parseResolvConf(text);
    this.stamp = stamp;
  }
}
