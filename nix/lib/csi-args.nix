# lightningstor-csi's command line (csi-driver/README.md, `--help`), from the
# agent's final settings and services.k8shost-node.lightningstor.
#
# The driver and the agent meet in two places, both derived here from the
# agent's settings rather than written twice: the registration directory the
# agent watches (volumes.pluginsRegistryDir, "" = <rootDir>/plugins_registry)
# and the node id, which must be the agent's node name. The CSI socket goes
# where the driver puts it by default, under <rootDir>/plugins/<driver>/; the
# agent learns it from the registration socket.
#
# Plain builtins only (tested with `nix-instantiate --eval`).
{ settings, lightningstor }:
let
  driverName = "csi.lightningstor.plasmacloud.io";
  rootDir = settings.rootDir;
  registryDir =
    let
      configured = settings.volumes.pluginsRegistryDir or "";
    in
    if configured == "" then "${rootDir}/plugins_registry" else configured;
in
[
  "--node-id"
  settings.nodeName
  "--endpoint"
  "${rootDir}/plugins/${driverName}/csi.sock"
  "--registry-dir"
  registryDir
  # systemd's StateDirectory=lightningstor-csi
  "--state-dir"
  "/var/lib/lightningstor-csi"
  "--lightningstor-address"
  lightningstor.address
  "--token-file"
  lightningstor.tokenFile
  "--org-id"
  lightningstor.orgId
  "--project-id"
  lightningstor.projectId
]
++ lightningstor.extraFlags
