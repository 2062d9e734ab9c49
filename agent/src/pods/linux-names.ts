// Linux facts that pod validation, the node policy and the config's checks
// share: capability names, the kernel namespace of a sysctl, and the sysctls
// the kubelet deems safe for any pod.

/** Every Linux capability (linux/capability.h, 0..40), as Kubernetes names them: no CAP_ prefix. */
export const CAPABILITIES: ReadonlySet<string> = new Set([
  "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
  "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
  "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
  "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
  "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
  "CHECKPOINT_RESTORE",
]);

/** Why `name` is not a capability a pod may list (ALL is one), or undefined. Case-insensitive, as the runtime is. */
export function capabilityProblem(name: string): string | undefined {
  const up = name.toUpperCase();
  if (up === "ALL" || CAPABILITIES.has(up)) return undefined;
  if (up.startsWith("CAP_") && CAPABILITIES.has(up.slice(4))) return `'${name}' is not a capability name (use ${up.slice(4)}, without the CAP_ prefix)`;
  return `'${name}' is not a Linux capability name`;
}

/** The kubelet's safe sysctls: namespaced and unable to affect other pods; allowed on every node. */
export const SAFE_SYSCTLS: ReadonlySet<string> = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
  "net.ipv4.tcp_rmem",
  "net.ipv4.tcp_wmem",
]);

// Kubernetes' sysctl name rule (validation.IsValidSysctlName), at most 253 characters.
const SYSCTL_NAME = /^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$/;

export function sysctlNameProblem(name: string): string | undefined {
  if (name.length > 253 || !SYSCTL_NAME.test(name)) return `'${name}' is not a sysctl name (lower-case words separated by '.' or '/')`;
  return undefined;
}

/** "net/ipv4/conf/eth0.100/forwarding" -> "net.ipv4.conf.eth0/100.forwarding": the kubelet's NormalizeName. */
export function normalizeSysctl(name: string): string {
  const slash = name.indexOf("/");
  const dot = name.indexOf(".");
  if (slash === -1 || (dot !== -1 && dot < slash)) return name;
  return name.replace(/[./]/g, (ch) => (ch === "/" ? "." : "/"));
}

export type SysctlNamespace = "ipc" | "net" | "uts" | undefined;

/** The kernel namespace a sysctl lives in; undefined means node-wide (never settable by a pod). */
export function sysctlNamespace(name: string): SysctlNamespace {
  const n = normalizeSysctl(name);
  if (n === "kernel.sem") return "ipc";
  if (n === "kernel.hostname" || n === "kernel.domainname") return "uts";
  if (n.startsWith("kernel.shm") || n.startsWith("kernel.msg") || n.startsWith("fs.mqueue.")) return "ipc";
  if (n.startsWith("net.")) return "net";
  return undefined;
}

/** A node's allowedUnsafeSysctls entry: a name or a "prefix*" pattern, and namespaced. */
export function unsafeSysctlPatternProblem(p: string): string | undefined {
  const base = p.endsWith("*") ? p.slice(0, -1).replace(/[./]$/, "") : p;
  if (sysctlNameProblem(base)) return `'${p}' is not a sysctl name or a "prefix*" pattern`;
  const probe = p.endsWith("*") ? `${p.slice(0, -1)}x` : p;
  if (!sysctlNamespace(probe) && !sysctlNamespace(base)) return `'${p}' is not a namespaced sysctl (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*, net.*)`;
  return undefined;
}
