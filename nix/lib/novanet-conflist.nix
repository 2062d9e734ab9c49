# containerd's pod network: the novanet plugin, then the reference portmap
# plugin (scripts/node-stack/up.sh writes the same shape for the tests).
#
# `novanet` is the agent's final `network.novanet` settings. The conflist is
# made from them, so containerd's ADD/DEL and the agent's own CHECK/GC calls
# (agent/src/network/novanet.ts: netConf) see one network: the same name (the
# result cache is keyed by it), mode, ovsdb and server block. Keys the agent
# does not send (cacheDir, mtu, logFile, bridge) are left out on purpose:
# CHECK and GC would otherwise look at a different cache or bridge than ADD.
# The shape is NovanetNetConf of proto/src/contracts/netconf.ts;
# nix/test/unit/module.test.ts parses each plugin entry with the plugin's own
# parser and compares it with what the agent sends.
#
# The `ovn` block (ovn-controller owns br-int) is the agent's camelCase
# network.novanet.ovn in the plugin's snake_case keys, as the agent's
# ovnNetConf (agent/src/network/novanet-ovn.ts) writes it; keys the settings
# leave out are left out (the plugin's defaults are the agent's).
#
# Plain builtins only (tested with `nix-instantiate --eval`).
{ novanet }:
let
  # The keys of `names` present in `attrs`, renamed.
  rename =
    names: attrs:
    builtins.listToAttrs (
      builtins.concatMap (
        n:
        if attrs ? ${n} then
          [
            {
              name = names.${n};
              value = attrs.${n};
            }
          ]
        else
          [ ]
      ) (builtins.attrNames names)
    );
  ovn = novanet.ovn or null;
  management = if ovn == null then null else ovn.management or null;
  ovnBlock =
    rename { installedTimeoutMs = "installed_timeout_ms"; } ovn
    // (
      if management == null then
        { }
      else
        {
          management = rename {
            orgId = "org_id";
            projectId = "project_id";
            subnetId = "subnet_id";
            ifname = "ifname";
          } management;
        }
    );
in
{
  # containerd 1.6/1.7's libcni reads conflists up to 1.0.0.
  cniVersion = "1.0.0";
  name = novanet.networkName;
  plugins = [
    (
      {
        type = "novanet";
        mode = novanet.mode;
        novanet = {
          server_addr = novanet.serverAddress;
          token_file = novanet.tokenFile;
          timeout_ms = novanet.timeoutSeconds * 1000;
        };
        # containerd passes each sandbox's annotations (the pod's tenant and
        # subnet, stamped by the agent) to plugins declaring this capability.
        capabilities = {
          "io.kubernetes.cri.pod-annotations" = true;
        };
      }
      // (
        if novanet.mode == "ovs" && (novanet.ovsdb or "") != "" then { ovsdb = novanet.ovsdb; } else { }
      )
      // (if novanet.mode == "ovs" && ovn != null then { ovn = ovnBlock; } else { })
    )
    {
      type = "portmap";
      capabilities = {
        portMappings = true;
      };
    }
  ];
}
