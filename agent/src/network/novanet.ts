// Pod networking from NovaNET. The agent decides each pod's tenant and subnet
// and stamps them on the sandbox; the runtime runs the novanet plugin from its
// conflist (containerd requires its own CNI ADD to yield eth0, so ADD/DEL
// cannot move out of RunPodSandbox/StopPodSandbox). The agent then CHECKs
// running attachments now and then and, at start-up, GCs the attachments of
// sandboxes that no longer exist - calls containerd itself never makes.
import { CodedError } from "@plasmacloud/common/errors";
import { POD_ANNOTATIONS_CAPABILITY, TenantKeys } from "@plasmacloud/proto/annotations";
import type { NovanetMode, NovanetNetConf } from "@plasmacloud/proto/netconf";
import type { PodIdentity, SandboxInfo } from "../runtime/types";
import { invokeCni } from "./cni-exec";
import { ovnNetConf, type NovanetOvnSettings } from "./novanet-ovn";
import { RuntimeManagedNetwork } from "./runtime-managed";
import type { PodNetwork } from "./types";

export interface NovanetSettings {
  pluginPath: string;
  /** The network name in the runtime's conflist: results are cached under it. */
  networkName: string;
  serverAddress: string;
  tokenFile: string;
  mode: NovanetMode;
  ovsdb: string;
  defaultSubnetId: string;
  timeoutSeconds: number;
  /** ovs mode on OVN's br-int (novanet-ovn.ts); absent: a plain OVS bridge. */
  ovn?: NovanetOvnSettings;
}

const IFNAME = "eth0";
const CNI_VERSION = "1.1.0";

export class NovanetNetwork extends RuntimeManagedNetwork implements PodNetwork {
  constructor(private readonly s: NovanetSettings) {
    super();
  }

  override sandboxAnnotations(pod: PodIdentity, podAnnotations: Record<string, string>): Record<string, string> {
    const subnet = podAnnotations[TenantKeys.subnetId] || this.s.defaultSubnetId;
    if (!subnet) {
      throw new CodedError("InvalidArgument", `no subnet for the pod: set the '${TenantKeys.subnetId}' annotation (the node has no network.novanet.defaultSubnetId)`);
    }
    if (!pod.orgId || !pod.projectId) throw new CodedError("InvalidArgument", "the pod has no org_id/project_id: its tenant is unknown");
    return { [TenantKeys.orgId]: pod.orgId, [TenantKeys.projectId]: pod.projectId, [TenantKeys.subnetId]: subnet };
  }

  /** The network config as the runtime's conflist has it, plus what this call adds. */
  private netConf(extra: Partial<NovanetNetConf>): NovanetNetConf {
    return {
      cniVersion: CNI_VERSION,
      name: this.s.networkName,
      type: "novanet",
      mode: this.s.mode,
      ...(this.s.mode === "ovs" && this.s.ovsdb ? { ovsdb: this.s.ovsdb } : {}),
      ...(this.s.mode === "ovs" && this.s.ovn ? { ovn: ovnNetConf(this.s.ovn) } : {}),
      novanet: { server_addr: this.s.serverAddress, token_file: this.s.tokenFile, timeout_ms: this.s.timeoutSeconds * 1000 },
      ...extra,
    };
  }

  async check(pod: PodIdentity, annotations: Record<string, string>, sandbox: SandboxInfo, ips: string[]): Promise<void> {
    if (!sandbox.netnsPath) return;
    const tenant = this.sandboxAnnotations(pod, annotations);
    const prevResult = { cniVersion: CNI_VERSION, interfaces: [{ name: IFNAME, sandbox: sandbox.netnsPath }], ips: ips.map((a) => ({ address: `${a}/32`, interface: 0 })) };
    await invokeCni(
      this.s.pluginPath,
      {
        command: "CHECK",
        containerId: sandbox.id,
        netns: sandbox.netnsPath,
        ifname: IFNAME,
        args: { K8S_POD_NAMESPACE: pod.namespace, K8S_POD_NAME: pod.name, K8S_POD_UID: pod.uid, K8S_POD_INFRA_CONTAINER_ID: sandbox.id },
        config: this.netConf({ prevResult, runtimeConfig: { [POD_ANNOTATIONS_CAPABILITY]: tenant } }),
      },
      this.s.timeoutSeconds * 1000,
    );
  }

  async gc(valid: string[]): Promise<void> {
    const config = this.netConf({ "cni.dev/valid-attachments": valid.map((id) => ({ containerID: id, ifname: IFNAME })) });
    await invokeCni(this.s.pluginPath, { command: "GC", config }, this.s.timeoutSeconds * 1000);
  }
}
