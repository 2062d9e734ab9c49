# services.k8shost-node.novanet.ovn: ovn-controller on the node for novanet's
# ovs mode (OVN owns br-int), and the conflist's `ovn` block (through the
# agent's network.novanet.ovn, nix/lib/agent-settings.nix). A module of its
# own, imported by k8shost-node.nix: options, assertions and unit live
# together and k8shost-node.nix stays a size one can read. The assertions and
# the unit come from nix/lib/novanet-ovn.nix (plain builtins, tested with
# nix-instantiate --eval).
{
  config,
  lib,
  pkgs,
  utils,
  ...
}:
let
  cfg = config.services.k8shost-node;
  ovn = cfg.novanet.ovn;
  inherit (lib) mkOption types;
  spec = import ../lib/novanet-ovn.nix {
    inherit cfg;
    vswitchPackage = config.virtualisation.vswitch.package;
  };
in
{
  options.services.k8shost-node.novanet.ovn = {
    enable = lib.mkEnableOption ''
      ovn-controller on the node (novanet ovs mode: OVN owns br-int), and the
      conflist's `ovn` block: ADD waits for ovn-installed, the node's management
      port gives the host its way to pods (probes, node ports)'';
    package = mkOption {
      type = types.package;
      default = pkgs.ovn;
      defaultText = lib.literalExpression "pkgs.ovn";
      description = "The OVN package (ovn-controller).";
    };
    southboundRemote = mkOption {
      type = types.str;
      default = "";
      example = "tcp:10.0.0.2:6642";
      description = "OVN's southbound database (external_ids:ovn-remote). Required.";
    };
    encapIP = mkOption {
      type = types.nullOr types.str;
      default = cfg.nodeIP;
      defaultText = lib.literalExpression "config.services.k8shost-node.nodeIP";
      example = "10.0.0.7";
      description = ''
        This node's tunnel endpoint address (external_ids:ovn-encap-ip). Required:
        set it or nodeIP, its default.
      '';
    };
    encapType = mkOption {
      type = types.enum [
        "geneve"
        "vxlan"
        "stt"
      ];
      default = "geneve";
      description = "Tunnel encapsulation between chassis (external_ids:ovn-encap-type).";
    };
    systemId = mkOption {
      type = types.str;
      default = cfg.nodeName;
      defaultText = lib.literalExpression "config.services.k8shost-node.nodeName";
      description = "The node's OVN chassis name (external_ids:system-id).";
    };
    installedTimeoutMs = mkOption {
      type = types.ints.positive;
      default = 10000;
      description = "How long a pod's ADD waits for ovn-controller to mark its port ovn-installed.";
    };
    management = {
      orgId = mkOption {
        type = types.str;
        default = "novanet-system";
        description = "The management port's NovaNET organisation (NovaNET's own tenant).";
      };
      projectId = mkOption {
        type = types.str;
        default = "node-management";
        description = "The management port's NovaNET project.";
      };
      subnetId = mkOption {
        type = types.str;
        default = "";
        description = "NovaNET's management subnet, where the node's management port is bound. Required.";
      };
      ifname = mkOption {
        type = types.strMatching "[A-Za-z0-9_.-]{1,15}";
        default = "nvmp0";
        description = "The management port's name on the host (an OVS internal port on br-int).";
      };
    };
  };

  config = lib.mkIf (cfg.enable && ovn.enable) {
    inherit (spec) assertions;

    systemd.services.ovn-controller = {
      inherit (spec.service)
        description
        after
        requires
        before
        wantedBy
        environment
        ;
      serviceConfig = spec.service.serviceConfig // {
        ExecStartPre = utils.escapeSystemdExecArgs spec.service.externalIds;
        ExecStart = utils.escapeSystemdExecArgs spec.service.controller;
      };
    };

    # Pods are started (and CHECKed) once the chassis is there; wanted, not
    # required: a restart of ovn-controller must not restart the agent.
    systemd.services.k8shost-agent = {
      after = [ "ovn-controller.service" ];
      wants = [ "ovn-controller.service" ];
    };
  };
}
