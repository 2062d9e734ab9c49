# The module evaluated in NixOS systems, without a VM: assertions hold, the
# agent config renders and passes `k8shost-agent config check` (a build step
# of the agent's unit), containerd's config passes `containerd config dump`
# (virtualisation.containerd's own check), and the units carry the directives
# the node relies on. Also: an option the agent cannot honour (nodeIP) fails
# the evaluation with its message instead of being dropped. With
# novanet.ovn: ovn-controller's unit, the agent after it, the conflist's `ovn`
# block; refused in bridge mode.
{
  pkgs,
  nixpkgs,
  system,
  module,
}:
let
  inherit (pkgs) lib;

  evalNode =
    node:
    nixpkgs.lib.nixosSystem {
      modules = [
        module
        {
          nixpkgs.hostPlatform = system;
          system.stateVersion = "25.05";
          boot.loader.grub.enable = false;
          fileSystems."/" = {
            device = "/dev/vda";
            fsType = "ext4";
          };
          networking.hostName = "worker-1";
        }
        node
      ];
    };

  base = {
    services.k8shost-node = {
      enable = true;
      controlPlane.address = "10.0.0.1:6443";
    };
  };
  ovsNode = lib.recursiveUpdate base {
    services.k8shost-node = {
      nodeLabels."topology.kubernetes.io/zone" = "zone-a";
      clusterDNS.servers = [ "10.96.0.10" ];
      novanet = {
        enable = true;
        serverAddress = "10.0.0.2:9696";
        defaultSubnetId = "subnet-1";
      };
      lightningstor = {
        enable = true;
        address = "10.0.0.5:7080";
        orgId = "org-1";
        projectId = "project-1";
      };
      settings.logLevel = "debug";
    };
  };
  bridgeNode = lib.recursiveUpdate base {
    services.k8shost-node.novanet = {
      enable = true;
      mode = "bridge";
      serverAddress = "10.0.0.2:9696";
    };
  };

  ovnOptions = {
    enable = true;
    southboundRemote = "tcp:10.0.0.2:6642";
    encapIP = "10.0.0.7";
    management.subnetId = "node-management";
  };
  ovnNode = lib.recursiveUpdate ovsNode { services.k8shost-node.novanet.ovn = ovnOptions; };

  # Assertions are only checked by system.build.toplevel; check them here.
  checked =
    name: node:
    let
      inherit (evalNode node) config;
      failed = map (a: a.message) (builtins.filter (a: !a.assertion) config.assertions);
    in
    if failed != [ ] then throw "${name}: ${lib.concatStringsSep "; " failed}" else config;

  ovs = checked "ovs" ovsNode;
  bridge = checked "bridge" bridgeNode;
  onOvn = checked "ovn" ovnNode;
  unit = config: name: config.systemd.units.${name}.unit;

  # An unsupported option must fail, naming itself.
  withNodeIP = evalNode (lib.recursiveUpdate base { services.k8shost-node.nodeIP = "10.0.0.9"; });
  nodeIPRefused = lib.any (
    a: !a.assertion && lib.hasInfix "nodeIP" a.message
  ) withNodeIP.config.assertions;
  # OVN without OVS (bridge mode) must fail, naming the mode.
  withOvnOnBridge = evalNode (lib.recursiveUpdate bridgeNode { services.k8shost-node.novanet.ovn = ovnOptions; });
  ovnOnBridgeRefused = lib.any (
    a: !a.assertion && lib.hasInfix "novanet.mode" a.message
  ) withOvnOnBridge.config.assertions;
in
assert lib.assertMsg nodeIPRefused "services.k8shost-node.nodeIP was accepted";
assert lib.assertMsg ovnOnBridgeRefused "services.k8shost-node.novanet.ovn was accepted in bridge mode";
assert lib.assertMsg (
  !(ovs.systemd.services ? ovn-controller) && onOvn.systemd.services ? ovn-controller
) "ovn-controller must run with novanet.ovn only";
assert lib.assertMsg (
  ovs.virtualisation.vswitch.enable && !bridge.virtualisation.vswitch.enable
) "Open vSwitch must be on in ovs mode only";
assert lib.assertMsg (
  bridge.boot.kernel.sysctl."net.bridge.bridge-nf-call-iptables" == 1
  && !(ovs.boot.kernel.sysctl ? "net.bridge.bridge-nf-call-iptables")
) "bridge-nf-call-iptables must be set in bridge mode only";
assert lib.assertMsg (
  ovs.virtualisation.containerd.settings.plugins."io.containerd.grpc.v1.cri".cni.bin_dir == "/opt/cni/bin"
) "containerd's CNI bin_dir must be the module's";
assert lib.assertMsg (
  ovs.networking.firewall.allowedTCPPorts == [ ] && ovs.networking.firewall.allowedUDPPorts == [ ]
) "the module opens no firewall port";
pkgs.runCommand "k8shost-node-module-eval" { nativeBuildInputs = [ pkgs.jq ]; } ''
  # has FILE REGEX: a whole line of FILE matches.
  has() { grep -Eqx -- "$2" "$1" || { echo "$1: no line matching '$2'"; exit 1; }; }
  agent=${unit ovs "k8shost-agent.service"}/k8shost-agent.service
  csi=${unit ovs "lightningstor-csi.service"}/lightningstor-csi.service
  netns=${unit ovs "k8shost-netns.service"}/k8shost-netns.service
  has $agent 'Type=notify'
  has $agent 'NotifyAccess=all'
  has $agent 'WatchdogSec=30s'
  has $agent 'KillMode=process'
  has $agent 'Delegate=(true|yes)'
  has $agent 'Restart=always'
  has $agent 'After=.*containerd\.service.*'
  has $agent 'ExecStart=.*k8shost-agent-config-checked\.yaml.*'
  has $csi 'Type=exec'
  has $csi 'KillMode=process'
  has $csi 'ExecStart=.*--node-id.*worker-1.*'
  has $netns 'Before=.*containerd\.service.*'
  # containerd's unit runs its config through `containerd config dump`; the
  # bridge node's agent unit needs its own `config check` to pass.
  test -e ${unit ovs "containerd.service"}
  test -e ${unit bridge "k8shost-agent.service"}
  jq -e '.plugins[0].type == "novanet" and .plugins[0].mode == "ovs" and .plugins[1].type == "portmap"' \
    ${ovs.systemd.tmpfiles.settings."10-k8shost-cni"."/etc/cni/net.d/10-novanet.conflist"."L+".argument}
  # novanet.ovn: ovn-controller on the system OVS db, after br-int, the agent after it, the conflist's block.
  ovnc=${unit onOvn "ovn-controller.service"}/ovn-controller.service
  has $ovnc 'ExecStart=.*/bin/ovn-controller"? "?unix:/run/openvswitch/db\.sock"?'
  has $ovnc 'ExecStartPre=.*/bin/ovs-vsctl.*external_ids:ovn-remote=tcp:10\.0\.0\.2:6642.*external_ids:ovn-bridge-datapath-type=system"?'
  has $ovnc 'After=.*k8shost-br-int\.service.*'
  has $ovnc 'Requires=.*ovs-vswitchd\.service.*'
  has $ovnc 'Restart=always'
  has ${unit onOvn "k8shost-agent.service"}/k8shost-agent.service 'After=.*ovn-controller\.service.*'
  jq -e '.plugins[0].ovn == {"installed_timeout_ms": 10000, "management": {"org_id": "novanet-system", "project_id": "node-management", "subnet_id": "node-management", "ifname": "nvmp0"}}' \
    ${onOvn.systemd.tmpfiles.settings."10-k8shost-cni"."/etc/cni/net.d/10-novanet.conflist"."L+".argument}
  jq -e '.plugins[0] | has("ovn") | not' ${ovs.systemd.tmpfiles.settings."10-k8shost-cni"."/etc/cni/net.d/10-novanet.conflist"."L+".argument}
  touch $out
''
