# ovn-controller for novanet's ovs mode: the assertions on
# services.k8shost-node.novanet.ovn and the ovn-controller unit, as
# nix/modules/novanet-ovn.nix wires them in. In ovs mode pods sit on br-int,
# which on an OVN node belongs to ovn-controller: without it pods get no flows,
# and the conflist's `ovn` block (ADD waits for ovn-installed) would time out
# every ADD - so the two are switched on by the one option.
#
# The unit does what scripts/node-stack/ovn.sh does for the dev stack: first
# the chassis' Open_vSwitch external_ids (each start, so a changed option is
# applied on restart), then ovn-controller against the node's OVS db. Unlike
# the dev stack, br-int uses the kernel datapath (system), as NixOS's
# ovs-vswitchd runs it.
#
# `cfg` is config.services.k8shost-node; `vswitchPackage` is
# virtualisation.vswitch.package. Commands are argument lists (the module
# escapes them with utils.escapeSystemdExecArgs).
#
# Plain builtins only (tested with `nix-instantiate --eval`).
{
  cfg,
  vswitchPackage,
  # virtualisation.vswitch's ovsdb-server socket (the agent's network.novanet.ovsdb).
  ovsdb ? "unix:/run/openvswitch/db.sock",
}:
let
  novanet = cfg.novanet;
  ovn = novanet.ovn;
  opt = "services.k8shost-node.novanet.ovn";
  set = v: v != null && v != "";
  orEmpty = v: if v == null then "" else v;
in
{
  assertions = [
    {
      assertion = ovn.enable -> novanet.enable && novanet.mode == "ovs";
      message = "${opt} needs novanet.enable and novanet.mode = \"ovs\" (ovn-controller owns OVS's br-int; bridge mode has no OVS); mode is \"${novanet.mode}\".";
    }
    {
      assertion = ovn.enable -> set ovn.southboundRemote && set ovn.encapIP && set ovn.systemId;
      message = "${opt} needs southboundRemote (e.g. tcp:10.0.0.2:6642), encapIP (this node's tunnel address) and systemId.";
    }
    {
      assertion = ovn.enable -> set ovn.management.subnetId;
      message = "${opt}.management.subnetId must be set: NovaNET's management subnet, where the node's management port (host access to pods) is bound.";
    }
  ];

  service = {
    description = "OVN controller (this node's chassis; the flows of novanet's br-int)";
    after = [
      "ovs-vswitchd.service"
      "k8shost-br-int.service"
    ];
    requires = [
      "ovs-vswitchd.service"
      "k8shost-br-int.service"
    ];
    before = [ "k8shost-agent.service" ];
    wantedBy = [ "multi-user.target" ];
    # ovn-controller finds br-int's OpenFlow socket (br-int.mgmt) in OVS's run
    # dir; its own control socket goes to OVN_RUNDIR.
    environment = {
      OVS_RUNDIR = "/run/openvswitch";
      OVN_RUNDIR = "/run/ovn";
    };
    externalIds = [
      "${vswitchPackage}/bin/ovs-vsctl"
      "--db=${ovsdb}"
      "--timeout=10"
      "set"
      "Open_vSwitch"
      "."
      "external_ids:system-id=${ovn.systemId}"
      "external_ids:ovn-remote=${ovn.southboundRemote}"
      "external_ids:ovn-encap-type=${ovn.encapType}"
      "external_ids:ovn-encap-ip=${orEmpty ovn.encapIP}"
      "external_ids:ovn-bridge=br-int"
      "external_ids:ovn-bridge-datapath-type=system"
    ];
    controller = [
      "${ovn.package}/bin/ovn-controller"
      ovsdb
    ];
    serviceConfig = {
      Type = "simple";
      Restart = "always";
      RestartSec = 2;
      RuntimeDirectory = "ovn";
    };
  };
}
