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
# nix/test/unit/nix.test.ts parses each plugin entry with the plugin's own
# parser and compares it with what the agent sends.
#
# Plain builtins only (tested with `nix-instantiate --eval`).
{ novanet }:
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
    )
    {
      type = "portmap";
      capabilities = {
        portMappings = true;
      };
    }
  ];
}
