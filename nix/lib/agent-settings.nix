# The agent's YAML keys that the NixOS module's typed options stand for.
#
# `cfg` is config.services.k8shost-node. The module sets the result, each
# value at mkDefault priority, into `services.k8shost-node.settings`, the
# freeform attribute set rendered to k8shost-agent's YAML and checked at build
# time by `k8shost-agent config check`: a key an operator writes into
# `settings` wins over the option that stands for it.
#
# Option -> YAML key (agent/src/config/schema.ts):
#   nodeName                    nodeName
#   nodeLabels                  nodeLabels
#   nodeIP                      node.ip                    (null -> "": the default-route address)
#   nodeTaints                  node.taints                (attrset of {key, value, effect} -> their list)
#   controlPlane.address        controlPlane.address
#   controlPlane.tokenFile      controlPlane.tokenFile
#   controlPlane.caFile         controlPlane.caFile        (null -> "": no TLS)
#   maxPods                     maxPods
#   reserved.{cpu,memory,ephemeralStorage}  reserved.*
#   clusterDNS.{servers,domain} clusterDNS.*
#   address, port               server.address, server.port
#   tlsCertFile, tlsKeyFile     server.certFile, server.keyFile  (null -> "": the node API off)
#   novanet.enable              network.mode               (novanet | runtime)
#   novanet.serverAddress       network.novanet.serverAddress
#   novanet.tokenFile           network.novanet.tokenFile
#   novanet.mode                network.novanet.mode
#   novanet.defaultSubnetId     network.novanet.defaultSubnetId  (null -> "")
#   cni.binDir                  network.novanet.pluginPath (<binDir>/novanet: the file containerd runs)
#   novanet.ovn.enable          network.novanet.ovn        (absent when off)
#   novanet.ovn.installedTimeoutMs          network.novanet.ovn.installedTimeoutMs
#   novanet.ovn.management.{orgId,projectId,subnetId,ifname}  network.novanet.ovn.management.*
# and three keys without an option, written out because other units read
# them from the final settings: rootDir (the CSI driver's socket and
# registration directories live under it), network.novanet.networkName and
# network.novanet.timeoutSeconds (containerd's conflist must say what the
# agent's own CHECK and GC calls say). Their values are the agent's defaults;
# nix/test/unit/module.test.ts fails when they drift apart.
#
# Plain builtins only, no nixpkgs `lib`: the tests evaluate this file with
# `nix-instantiate --eval`, where nixpkgs cannot be fetched.
{ cfg }:
let
  orEmpty = v: if v == null then "" else v;
  novanet = cfg.novanet;
in
{
  nodeName = cfg.nodeName;
  nodeLabels = cfg.nodeLabels;
  node = {
    ip = orEmpty cfg.nodeIP;
    taints = map (t: { inherit (t) key value effect; }) (builtins.attrValues cfg.nodeTaints);
  };
  controlPlane = {
    address = cfg.controlPlane.address;
    tokenFile = cfg.controlPlane.tokenFile;
    caFile = orEmpty cfg.controlPlane.caFile;
  };
  rootDir = "/var/lib/k8shost-agent";
  maxPods = cfg.maxPods;
  reserved = {
    cpu = cfg.reserved.cpu;
    memory = cfg.reserved.memory;
    ephemeralStorage = cfg.reserved.ephemeralStorage;
  };
  clusterDNS = {
    servers = cfg.clusterDNS.servers;
    domain = cfg.clusterDNS.domain;
  };
  server = {
    address = cfg.address;
    port = cfg.port;
    certFile = orEmpty cfg.tlsCertFile;
    keyFile = orEmpty cfg.tlsKeyFile;
  };
  network =
    if novanet.enable then
      {
        mode = "novanet";
        novanet = {
          pluginPath = "${cfg.cni.binDir}/novanet";
          networkName = "novanet";
          serverAddress = novanet.serverAddress;
          tokenFile = novanet.tokenFile;
          mode = novanet.mode;
          defaultSubnetId = orEmpty novanet.defaultSubnetId;
          timeoutSeconds = 30;
        }
        # The socket of NixOS's ovsdb.service (virtualisation.vswitch), named
        # rather than left to ovs-vsctl's compiled-in default.
        // (if novanet.mode == "ovs" then { ovsdb = "unix:/run/openvswitch/db.sock"; } else { })
        # ovn-controller runs (nix/modules/novanet-ovn.nix): the plugin waits
        # for it and binds the node's management port.
        // (
          if novanet.ovn.enable then
            {
              ovn = {
                installedTimeoutMs = novanet.ovn.installedTimeoutMs;
                management = {
                  inherit (novanet.ovn.management)
                    orgId
                    projectId
                    subnetId
                    ifname
                    ;
                };
              };
            }
          else
            { }
        );
      }
    else
      { mode = "runtime"; };
}
