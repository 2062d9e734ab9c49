// Security contexts without a runtime: the pod/container merge, the runtime
// requests it becomes, the CRI messages (with upstream field numbers on the
// wire), runAsNonRoot, the node policy and field-named validation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Capability, Image, LinuxContainerSecurityContext, LinuxPodSandboxConfig, LinuxSandboxSecurityContext, SecurityProfile, SecurityProfile_ProfileType } from "@plasmacloud/proto/cri";
import { Pod } from "@plasmacloud/proto/k8shost";
import { buildConfig } from "../../src/config/schema";
import { normalizeSysctl } from "../../src/pods/linux-names";
import { policyRefusals } from "../../src/pods/policy";
import { containerSecurity, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, effectiveSecurityContext, needsImageUser, sandboxSecurity, verifyRunAsNonRoot, type NodeSecurityPolicy } from "../../src/pods/security";
import { containerRequest, sandboxRequest, type NodeSettings } from "../../src/pods/spec";
import { validatePod } from "../../src/pods/validate";
import { containerConfig, sandboxConfig } from "../../src/runtime/convert";

const policy: NodeSecurityPolicy = { allowPrivileged: false, allowedCapabilities: [], allowHostNamespaces: false, allowedUnsafeSysctls: [], seccompDefault: false, seccompProfileRoot: "/var/lib/k8shost-agent/seccomp" };
const settings: NodeSettings = { nodeName: "n", cgroupRoot: "/k8shost", clusterDNS: { servers: [], domain: "cluster.local" }, hostDNS: { current: () => ({ servers: [], searches: [], options: [] }) }, memoryCapacityBytes: 2 ** 30, security: policy };

const mk = (spec: object): Pod => Pod.fromPartial({ metadata: { uid: "u1", name: "web", namespace: "shop" }, spec: { containers: [{ name: "c", image: "i" }], ...spec } });
const first = (pod: Pod) => pod.spec!.containers[0]!;

test("merge: the container's runAsUser/runAsGroup/runAsNonRoot/seccomp win, the pod's fill in; the rest is the container's alone", () => {
  const pod = mk({
    securityContext: { runAsUser: 1000n, runAsGroup: 3000n, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
    containers: [
      { name: "a", image: "i", securityContext: { runAsUser: 2000n, runAsNonRoot: false, seccompProfile: { type: "Unconfined" }, readOnlyRootFilesystem: true } },
      { name: "b", image: "i" },
    ],
  });
  const a = effectiveSecurityContext(pod, pod.spec!.containers[0]!);
  assert.equal(a.runAsUser, 2000n);
  assert.equal(a.runAsGroup, 3000n, "unset in the container: the pod's");
  assert.equal(a.runAsNonRoot, false, "an explicit false overrides the pod's true");
  assert.equal(a.seccompProfile?.type, "Unconfined");
  assert.equal(a.readOnlyRootFilesystem, true);
  const b = effectiveSecurityContext(pod, pod.spec!.containers[1]!);
  assert.deepEqual([b.runAsUser, b.runAsGroup, b.runAsNonRoot, b.seccompProfile?.type], [1000n, 3000n, true, "RuntimeDefault"]);
  assert.deepEqual([b.privileged, b.allowPrivilegeEscalation, b.readOnlyRootFilesystem, b.capabilities], [undefined, undefined, undefined, undefined]);
});

test("container security: fsGroup then supplementalGroups, no_new_privs only for an explicit false, default masked paths unless privileged", () => {
  const pod = mk({
    securityContext: { runAsUser: 1000n, runAsGroup: 3000n, fsGroup: 2000n, supplementalGroups: [5000n, 6000n] },
    containers: [{ name: "c", image: "i", securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["all"], add: ["net_bind_service"] } } }],
  });
  const s = containerSecurity(pod, first(pod), policy);
  assert.deepEqual(s.supplementalGroups, [2000, 5000, 6000]);
  assert.deepEqual([s.runAsUser, s.runAsGroup, s.runAsUsername], [1000, 3000, ""]);
  assert.equal(s.noNewPrivs, true);
  assert.deepEqual(s.capabilities, { add: ["NET_BIND_SERVICE"], drop: ["ALL"] });
  assert.deepEqual(s.maskedPaths, DEFAULT_MASKED_PATHS);
  assert.deepEqual(s.readonlyPaths, DEFAULT_READONLY_PATHS);
  assert.deepEqual(s.seccomp, { type: "Unconfined", localhostRef: "" }, "the kubelet's default without seccompDefault");
  assert.equal(containerSecurity(mk({}), first(mk({})), policy).noNewPrivs, false, "unset allowPrivilegeEscalation: no flag");
  assert.equal(containerSecurity(mk({}), first(mk({})), { ...policy, seccompDefault: true }).seccomp.type, "RuntimeDefault");

  const priv = mk({ containers: [{ name: "c", image: "i", securityContext: { privileged: true } }] });
  const ps = containerSecurity(priv, first(priv), policy);
  assert.deepEqual([ps.privileged, ps.maskedPaths, ps.readonlyPaths], [true, [], []]);
  assert.equal(sandboxSecurity(priv, policy).privileged, true, "the sandbox knows a privileged container will run in it");

  const local = mk({ securityContext: { seccompProfile: { type: "Localhost", localhostProfile: "profiles/audit.json" } } });
  assert.deepEqual(containerSecurity(local, first(local), policy).seccomp, { type: "Localhost", localhostRef: "/var/lib/k8shost-agent/seccomp/profiles/audit.json" });
});

test("a lone runAsGroup takes its user from the image (uid, else name, else root), as the runtime needs a user with a group", () => {
  const pod = mk({ securityContext: { runAsGroup: 3000n } });
  assert.equal(needsImageUser(pod, first(pod)), true);
  assert.equal(needsImageUser(mk({ securityContext: { runAsUser: 1n, runAsGroup: 3000n } }), first(pod)), false);
  assert.equal(needsImageUser(mk({}), first(pod)), false, "no check, no ImageStatus call");
  const user = (image?: { uid: number | undefined; username: string }) => {
    const s = containerSecurity(pod, first(pod), policy, image);
    return [s.runAsUser, s.runAsUsername, s.runAsGroup];
  };
  assert.deepEqual(user({ uid: 1001, username: "" }), [1001, "", 3000]);
  assert.deepEqual(user({ uid: undefined, username: "nobody" }), [undefined, "nobody", 3000]);
  assert.deepEqual(user({ uid: undefined, username: "" }), [0, "", 3000]);
  // Without a group the image's own user:group stays the runtime's business.
  const plain = containerSecurity(mk({}), first(mk({})), policy, { uid: 1001, username: "" });
  assert.deepEqual([plain.runAsUser, plain.runAsUsername], [undefined, ""]);
});

test("runAsNonRoot: the kubelet's verifyRunAsNonRoot messages", () => {
  const pod = mk({ securityContext: { runAsNonRoot: true } });
  const c = first(pod);
  assert.equal(needsImageUser(pod, c), true);
  const where = '(pod: "web_shop(u1)", container: c)';
  assert.equal(verifyRunAsNonRoot(pod, c, { uid: 0, username: "" }), `container has runAsNonRoot and image will run as root ${where}`);
  assert.equal(verifyRunAsNonRoot(pod, c, { uid: undefined, username: "" }), `container has runAsNonRoot and image will run as root ${where}`, "no user in the image: root");
  assert.equal(verifyRunAsNonRoot(pod, c, undefined), `container has runAsNonRoot and image will run as root ${where}`);
  assert.equal(verifyRunAsNonRoot(pod, c, { uid: undefined, username: "app" }), `container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root ${where}`);
  assert.equal(verifyRunAsNonRoot(pod, c, { uid: 1000, username: "" }), undefined);
  const zero = mk({ securityContext: { runAsNonRoot: true, runAsUser: 0n } });
  assert.equal(verifyRunAsNonRoot(zero, first(zero), undefined), `container's runAsUser breaks non-root policy ${where}`);
  const ok = mk({ securityContext: { runAsNonRoot: true }, containers: [{ name: "c", image: "i", securityContext: { runAsUser: 1000n } }] });
  assert.equal(needsImageUser(ok, first(ok)), false);
  assert.equal(verifyRunAsNonRoot(ok, first(ok), undefined), undefined);
  assert.equal(verifyRunAsNonRoot(mk({}), first(mk({})), { uid: 0, username: "" }), undefined, "not asked: root is fine");
});

test("CRI mapping: the sandbox and container security contexts and sysctls", () => {
  const pod = mk({
    hostPid: true,
    securityContext: { runAsUser: 1000n, runAsGroup: 3000n, fsGroup: 2000n, sysctls: [{ name: "net/ipv4/ip_local_port_range", value: "1024 65000" }] },
    containers: [{ name: "c", image: "i", securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] }, seccompProfile: { type: "RuntimeDefault" } } }],
  });
  const sreq = sandboxRequest(pod, 0, settings);
  const sb = sandboxConfig(sreq, "n", "/logs").linux!;
  assert.deepEqual(sb.sysctls, { "net.ipv4.ip_local_port_range": "1024 65000" });
  const ssc = sb.securityContext!;
  assert.deepEqual([ssc.runAsUser, ssc.runAsGroup, ssc.supplementalGroups, ssc.privileged], [{ value: 1000n }, { value: 3000n }, [2000n], false]);
  assert.deepEqual(ssc.seccomp, { profileType: SecurityProfile_ProfileType.RuntimeDefault, localhostRef: "" });
  assert.equal(ssc.namespaceOptions?.pid, 2 /* NODE */, "hostPID");

  const creq = containerRequest(pod, first(pod), 0, "sha256:img", [], settings);
  const csc = containerConfig(sreq, creq, "n").linux!.securityContext!;
  assert.deepEqual(csc.capabilities, { addCapabilities: ["NET_BIND_SERVICE"], dropCapabilities: ["ALL"] });
  assert.deepEqual([csc.runAsUser, csc.runAsGroup, csc.runAsUsername], [{ value: 1000n }, { value: 3000n }, ""]);
  assert.deepEqual(csc.supplementalGroups, [2000n]);
  assert.deepEqual([csc.readonlyRootfs, csc.noNewPrivs, csc.privileged], [true, true, false]);
  assert.deepEqual(csc.maskedPaths, DEFAULT_MASKED_PATHS);
  assert.deepEqual(csc.readonlyPaths, DEFAULT_READONLY_PATHS);
  assert.equal(csc.seccomp?.profileType, SecurityProfile_ProfileType.RuntimeDefault);
  assert.equal(csc.namespaceOptions?.pid, 2);

  // Nothing asked: no user or group at all (the image's), no capability change, Unconfined.
  const plain = mk({});
  const pc = containerConfig(sandboxRequest(plain, 0, settings), containerRequest(plain, first(plain), 0, "i", [], settings), "n").linux!.securityContext!;
  assert.deepEqual([pc.runAsUser, pc.runAsGroup, pc.capabilities, pc.supplementalGroups], [undefined, undefined, undefined, []]);
  assert.equal(pc.seccomp?.profileType, SecurityProfile_ProfileType.Unconfined);
});

/** The field numbers present at the top level of an encoded message. */
function fieldNumbers(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (i >= bytes.length) throw new Error("truncated varint");
      const b = bytes[i++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
  };
  while (i < bytes.length) {
    const key = Number(varint());
    out.push(key >>> 3);
    const wire = key & 7;
    if (wire === 0) varint();
    else if (wire === 2) {
      const len = Number(varint()); // read first: `i += varint()` would add to the old i
      i += len;
    }
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`wire type ${wire}`);
  }
  return out;
}

test("CRI field numbers on the wire are upstream's (k8s.io/cri-api runtime/v1 api.proto)", () => {
  const one = { value: 1n };
  assert.deepEqual(
    fieldNumbers(LinuxContainerSecurityContext.encode(LinuxContainerSecurityContext.fromPartial({
      capabilities: {}, privileged: true, namespaceOptions: { network: 2 }, runAsUser: one, runAsUsername: "u", readonlyRootfs: true,
      supplementalGroups: [1n], noNewPrivs: true, runAsGroup: one, maskedPaths: ["/m"], readonlyPaths: ["/r"], seccomp: {},
    })).finish()),
    [1, 2, 3, 5, 6, 7, 8, 11, 12, 13, 14, 15],
  );
  assert.deepEqual(
    fieldNumbers(LinuxSandboxSecurityContext.encode(LinuxSandboxSecurityContext.fromPartial({ namespaceOptions: { network: 2 }, runAsUser: one, readonlyRootfs: true, supplementalGroups: [1n], privileged: true, runAsGroup: one, seccomp: {} })).finish()),
    [1, 3, 4, 5, 6, 8, 9],
  );
  assert.deepEqual(fieldNumbers(LinuxPodSandboxConfig.encode(LinuxPodSandboxConfig.fromPartial({ cgroupParent: "/x", securityContext: {}, sysctls: { a: "b" } })).finish()), [1, 2, 3]);
  assert.deepEqual(fieldNumbers(SecurityProfile.encode({ profileType: SecurityProfile_ProfileType.Localhost, localhostRef: "/p" }).finish()), [1, 2]);
  assert.deepEqual(fieldNumbers(Capability.encode({ addCapabilities: ["A"], dropCapabilities: ["B"] }).finish()), [1, 2]);
  assert.deepEqual(fieldNumbers(Image.encode(Image.fromPartial({ uid: one, username: "u" })).finish()), [5, 6]);
  assert.deepEqual([SecurityProfile_ProfileType.RuntimeDefault, SecurityProfile_ProfileType.Unconfined, SecurityProfile_ProfileType.Localhost], [0, 1, 2]);
});

test("node policy: privileged, added capabilities, host namespaces and unsafe sysctls are refused by default, naming the rule", () => {
  const pod = mk({
    hostNetwork: true,
    securityContext: { sysctls: [{ name: "net.ipv4.tcp_syncookies", value: "1" }, { name: "net.core.somaxconn", value: "1024" }] },
    containers: [
      { name: "a", image: "i", securityContext: { privileged: true } },
      { name: "b", image: "i", securityContext: { capabilities: { add: ["NET_BIND_SERVICE", "net_admin"], drop: ["ALL"] } } },
    ],
  });
  const msgs = policyRefusals(pod, policy).map((r) => `${r.reason} ${r.container ?? "-"} ${r.message}`);
  assert.deepEqual(msgs, [
    "CreatePodSandboxError - spec.hostNetwork: host namespaces are not allowed on this node (security.allowHostNamespaces)",
    'SysctlForbidden - spec.securityContext.sysctls[0].name: sysctl "net.ipv4.tcp_syncookies" is not allowed with hostNetwork',
    'SysctlForbidden - spec.securityContext.sysctls[1].name: sysctl "net.core.somaxconn" is not in the safe set and not allowed on this node (security.allowedUnsafeSysctls)',
    "CreateContainerConfigError a spec.containers[0].securityContext.privileged: privileged containers are not allowed on this node (security.allowPrivileged)",
    "CreateContainerConfigError b spec.containers[1].securityContext.capabilities.add[0]: capability NET_BIND_SERVICE is not allowed on this node (security.allowedCapabilities)",
    "CreateContainerConfigError b spec.containers[1].securityContext.capabilities.add[1]: capability NET_ADMIN is not allowed on this node (security.allowedCapabilities)",
  ]);
  const lax: NodeSecurityPolicy = { ...policy, allowPrivileged: true, allowHostNamespaces: true, allowedCapabilities: ["NET_BIND_SERVICE", "NET_ADMIN"], allowedUnsafeSysctls: ["net.core.*"] };
  assert.deepEqual(policyRefusals(pod, lax).map((r) => r.message), ['spec.securityContext.sysctls[0].name: sysctl "net.ipv4.tcp_syncookies" is not allowed with hostNetwork', 'spec.securityContext.sysctls[1].name: sysctl "net.core.somaxconn" is not allowed with hostNetwork']);
  assert.deepEqual(policyRefusals(mk({ ...pod.spec, hostNetwork: false }), lax), []);
  assert.deepEqual(policyRefusals(mk({ containers: [{ name: "c", image: "i", securityContext: { capabilities: { add: ["ALL"] } } }] }), { ...policy, allowedCapabilities: ["*"] }), []);
  assert.deepEqual(policyRefusals(mk({ securityContext: { sysctls: [{ name: "vm.swappiness", value: "1" }] } }), { ...policy, allowedUnsafeSysctls: ["vm.swappiness"] }).map((r) => r.message), [
    'spec.securityContext.sysctls[0].name: sysctl "vm.swappiness" is not namespaced: it would change the node',
  ]);
  assert.deepEqual(policyRefusals(mk({ securityContext: { sysctls: [{ name: "kernel.shm_rmid_forced", value: "1" }] } }), policy), [], "the safe set needs no permission");
  assert.equal(normalizeSysctl("net/ipv4/conf/eth0.100/forwarding"), "net.ipv4.conf.eth0/100.forwarding");
});

test("validation names the security field", () => {
  const v = (spec: object) => validatePod(mk(spec), () => undefined);
  const c = (securityContext: object) => v({ containers: [{ name: "c", image: "i", securityContext }] });
  assert.equal(c({ capabilities: { add: ["CAP_NET_ADMIN"] } }), "spec.containers[0].securityContext.capabilities.add[0]: 'CAP_NET_ADMIN' is not a capability name (use NET_ADMIN, without the CAP_ prefix)");
  assert.equal(c({ capabilities: { drop: ["ALL", "FLY"] } }), "spec.containers[0].securityContext.capabilities.drop[1]: 'FLY' is not a Linux capability name");
  assert.equal(c({ runAsUser: -1n }), "spec.containers[0].securityContext.runAsUser: -1 must be between 0 and 2147483647, inclusive");
  assert.equal(c({ privileged: true, allowPrivilegeEscalation: false }), "spec.containers[0].securityContext.allowPrivilegeEscalation: cannot be false when privileged is true");
  assert.equal(c({ capabilities: { add: ["SYS_ADMIN"] }, allowPrivilegeEscalation: false }), "spec.containers[0].securityContext.allowPrivilegeEscalation: cannot be false when capabilities.add has SYS_ADMIN");
  assert.equal(c({ seccompProfile: { type: "Strict" } }), "spec.containers[0].securityContext.seccompProfile.type: 'Strict' is not one of RuntimeDefault, Unconfined, Localhost");
  assert.equal(c({ seccompProfile: { type: "Localhost" } }), "spec.containers[0].securityContext.seccompProfile.localhostProfile: must be set for type Localhost");
  assert.equal(c({ seccompProfile: { type: "Localhost", localhostProfile: "../etc/x.json" } }), "spec.containers[0].securityContext.seccompProfile.localhostProfile: '../etc/x.json' must be a relative path without '..'");
  assert.equal(c({ seccompProfile: { type: "RuntimeDefault", localhostProfile: "x.json" } }), "spec.containers[0].securityContext.seccompProfile.localhostProfile: can only be set for type Localhost");
  assert.equal(v({ securityContext: { fsGroup: 2n ** 31n } }), "spec.securityContext.fsGroup: 2147483648 must be between 0 and 2147483647, inclusive");
  assert.equal(v({ securityContext: { supplementalGroups: [1n, -5n] } }), "spec.securityContext.supplementalGroups[1]: -5 must be between 0 and 2147483647, inclusive");
  assert.match(v({ securityContext: { sysctls: [{ name: "Net.Core", value: "1" }] } }) ?? "", /^spec\.securityContext\.sysctls\[0\]\.name: 'Net\.Core' is not a sysctl name/);
  assert.equal(v({ securityContext: { sysctls: [{ name: "net.ipv4.tcp_syncookies", value: "1" }, { name: "net/ipv4/tcp_syncookies", value: "0" }] } }), "spec.securityContext.sysctls[1].name: duplicate sysctl 'net/ipv4/tcp_syncookies'");
  assert.equal(c({ runAsUser: 1000n, runAsNonRoot: true, capabilities: { add: ["net_bind_service"], drop: ["all"] }, seccompProfile: { type: "Localhost", localhostProfile: "p.json" } }), undefined);
});

test("config: security defaults to refusing everything; entries are checked and named", () => {
  const c = buildConfig({});
  assert.deepEqual(c.security, { allowPrivileged: false, allowedCapabilities: [], allowHostNamespaces: false, allowedUnsafeSysctls: [], seccompDefault: false });
  assert.deepEqual(buildConfig({ security: { allowedCapabilities: ["NET_BIND_SERVICE", "*"], allowedUnsafeSysctls: ["net.core.*", "kernel.msgmax"] } }).security.allowedCapabilities, ["NET_BIND_SERVICE", "*"]);
  assert.throws(() => buildConfig({ security: { allowedCapabilities: ["CAP_SYS_ADMIN"] } }), /'security\.allowedCapabilities\[0\]': 'CAP_SYS_ADMIN' is not a capability name \(use SYS_ADMIN/);
  assert.throws(() => buildConfig({ security: { allowedUnsafeSysctls: ["vm.*"] } }), /'security\.allowedUnsafeSysctls\[0\]': 'vm\.\*' is not a namespaced sysctl/);
  assert.throws(() => buildConfig({ security: { allowPrivileged: "yes" } }), /'security\.allowPrivileged': must be a boolean/);
  assert.throws(() => buildConfig({ security: { allowPriviledged: true } }), /'security\.allowPriviledged': unknown field/);
});
