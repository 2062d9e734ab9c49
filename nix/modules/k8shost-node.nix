# services.k8shost-node: a PlasmaCloud k8shost worker node.
#
#   k8shost-agent.service      the node agent (kubelet-like; CRI to containerd)
#   containerd                 virtualisation.containerd, unless containerd.manage = false
#   k8shost-netns.service      /run/netns made a shared mount point before containerd
#   novanet (novanet.enable)   the CNI plugin in containerd's bin dir, its conflist
#                              in containerd's conf dir; Open vSwitch and br-int in ovs mode
#   ovn-controller.service     novanet.ovn.enable (ovs mode on OVN): ./novanet-ovn.nix
#   lightningstor-csi.service  the CSI driver (lightningstor.enable)
#
# Option names follow services.k3s (nodeName, nodeIP, nodeLabel/nodeTaint,
# extraFlags, environmentFile, tokenFile) and services.kubernetes.kubelet
# (taints, clusterDns). The agent's own config is `settings`, rendered to YAML
# and checked at build time by `k8shost-agent config check`.
#
# Written without `with lib;`: `nix-instantiate --parse` (run on every .nix file
# by the repository's tests) then also reports a misspelt name.
{
  config,
  lib,
  pkgs,
  utils,
  ...
}:
let
  cfg = config.services.k8shost-node;
  inherit (lib) mkOption types;

  programs = pkgs.callPackage ../packages { };
  settingsFormat = pkgs.formats.yaml { };
  units = import ../lib/units.nix { };

  # The agent's YAML, from `settings` (the typed options are defaults in it).
  configFile = settingsFormat.generate "k8shost-agent.yaml" cfg.settings;
  # Checked by the agent's own loader and schema at build time, as
  # virtualisation.containerd checks its config with `containerd config dump`:
  # an unknown key or a bad value fails the system build, not the node's boot.
  canRunHostPrograms = pkgs.stdenv.buildPlatform.canExecute pkgs.stdenv.hostPlatform;
  agentConfig =
    if cfg.checkConfig && canRunHostPrograms then
      pkgs.runCommand "k8shost-agent-config-checked.yaml" { nativeBuildInputs = [ cfg.package ]; } ''
        k8shost-agent config check ${configFile}
        ln -s ${configFile} $out
      ''
    else
      configFile;

  novanetSettings = cfg.settings.network.novanet;
  ovs = cfg.novanet.enable && cfg.novanet.mode == "ovs";
  bridgeMode = cfg.novanet.enable && cfg.novanet.mode == "bridge";

  # The plugin as containerd and the agent run it. containerd execs CNI
  # plugins with its own environment, and novanet looks for ip, nsenter and
  # ovs-vsctl in FHS directories (common/exec tool()) that NixOS does not
  # have, then on PATH: give it its tools.
  novanetPlugin =
    pkgs.runCommand "novanet-cni-plugin" { nativeBuildInputs = [ pkgs.makeWrapper ]; }
      ''
        makeWrapper ${lib.getExe cfg.novanet.package} $out/bin/novanet \
          --prefix PATH : ${
            lib.makeBinPath (
              [
                pkgs.iproute2
                pkgs.util-linux
              ]
              # ovs mode turns the pod end's TX checksumming off (cni-plugin/src/plumbing/offload.ts).
              ++ lib.optionals ovs [ config.virtualisation.vswitch.package pkgs.ethtool ]
            )
          }
      '';
  conflistName = "10-novanet.conflist";
  conflist = pkgs.writeText conflistName (
    builtins.toJSON (import ../lib/novanet-conflist.nix { novanet = novanetSettings; })
  );

  containerdSocket = lib.removePrefix "unix://" (
    cfg.settings.runtime.endpoint or "unix:///run/containerd/containerd.sock"
  );

  # Absolute, and not in the store: the store is world-readable.
  isSecretPath = p: lib.hasPrefix "/" p && !lib.hasPrefix builtins.storeDir p;
  dnsSubdomain = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";

  taintOptions =
    { name, ... }:
    {
      options = {
        key = mkOption {
          type = types.str;
          default = name;
          defaultText = lib.literalMD "the attribute name";
          description = "Key of the taint.";
        };
        value = mkOption {
          type = types.str;
          default = "";
          description = "Value of the taint.";
        };
        effect = mkOption {
          type = types.enum [
            "NoSchedule"
            "PreferNoSchedule"
            "NoExecute"
          ];
          description = "Effect of the taint.";
        };
      };
    };
in
{
  imports = [ ./novanet-ovn.nix ];

  options.services.k8shost-node = {
    enable = lib.mkEnableOption "the PlasmaCloud k8shost worker node (k8shost-agent on containerd)";

    package = mkOption {
      type = types.package;
      default = programs.k8shost-agent;
      defaultText = lib.literalMD "`k8shost-agent` of this repository (nix/packages)";
      description = "The k8shost-agent package.";
    };

    nodeName = mkOption {
      type = types.str;
      default = lib.toLower config.networking.hostName;
      defaultText = lib.literalExpression "lib.toLower config.networking.hostName";
      description = ''
        The node's name in the control plane (a DNS subdomain). The CSI driver
        reports the same name as its node id.
      '';
    };

    nodeIP = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "10.0.0.7";
      description = ''
        The node's InternalIP and its pods' hostIP (the kubelet's --node-ip;
        agent setting node.ip). It must be assigned to one of the host's
        interfaces, or the agent does not start. null: the address of the
        default route's interface.
      '';
    };

    nodeLabels = mkOption {
      type = types.attrsOf types.str;
      default = { };
      example = {
        "topology.kubernetes.io/zone" = "zone-a";
      };
      description = ''
        Labels the node registers with, on top of kubernetes.io/hostname,
        kubernetes.io/os and kubernetes.io/arch.
      '';
    };

    nodeTaints = mkOption {
      type = types.attrsOf (types.submodule taintOptions);
      default = { };
      example = lib.literalExpression ''{ dedicated = { value = "storage"; effect = "NoSchedule"; }; }'';
      description = ''
        Taints to register the node with (as services.kubernetes.kubelet.taints;
        the kubelet's --register-with-taints; agent setting node.taints). The
        agent refuses a pod that does not tolerate one of the NoExecute taints.
      '';
    };

    controlPlane = {
      address = mkOption {
        type = types.str;
        default = "";
        example = "10.0.0.1:6443";
        description = "host:port of the k8shost API server.";
      };
      tokenFile = mkOption {
        type = types.str;
        default = "/etc/k8shost-agent/token";
        description = ''
          File holding the node's bearer token, read at run time and re-read
          when it changes. A path on the node, never a store path.
        '';
      };
      caFile = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "CA bundle of the API server's certificate; null: plaintext.";
      };
    };

    extraFlags = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [
        "--log-level"
        "debug"
      ];
      description = "Extra arguments of `k8shost-agent run` (they override the config file).";
    };

    environmentFile = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "/etc/k8shost-agent/environment";
      description = ''
        An EnvironmentFile= of the agent's unit (e.g. K8SHOST_AGENT_NODE_FLAGS,
        proxy variables). A path on the node, never a store path.
      '';
    };

    settings = mkOption {
      type = types.submodule { freeformType = settingsFormat.type; };
      default = { };
      example = {
        logLevel = "debug";
        volumes.hostPathPrefixes = [ "/srv/shared" ];
      };
      description = ''
        k8shost-agent's configuration (README, "Configuration";
        `k8shost-agent config defaults` prints every key). The typed options
        of this module are defaults here: a key set here wins. Checked at
        build time with `k8shost-agent config check` (see checkConfig).
      '';
    };

    checkConfig = mkOption {
      type = types.bool;
      default = true;
      description = ''
        Validate the rendered config at build time with the agent's own
        `k8shost-agent config check` (skipped when cross-compiling).
      '';
    };

    reserved = {
      cpu = mkOption {
        type = types.str;
        default = "100m";
        description = "CPU kept from pods: allocatable = capacity - reserved.";
      };
      memory = mkOption {
        type = types.str;
        default = "256Mi";
        description = "Memory kept from pods.";
      };
      ephemeralStorage = mkOption {
        type = types.str;
        default = "1Gi";
        description = "Ephemeral storage kept from pods.";
      };
    };

    maxPods = mkOption {
      type = types.ints.positive;
      default = 110;
      description = "Pods the node accepts at most.";
    };

    clusterDNS = {
      servers = mkOption {
        type = types.listOf types.str;
        default = [ ];
        example = [ "10.96.0.10" ];
        description = "Nameservers of ClusterFirst pods (FlashDNS); empty: the host's.";
      };
      domain = mkOption {
        type = types.str;
        default = "cluster.local";
        description = "The cluster's DNS domain (the search path of ClusterFirst pods).";
      };
    };

    # The node API (logs, exec, attach, port-forward), as services.kubernetes.kubelet's
    # address / port / tlsCertFile / tlsKeyFile. It serves TLS only: without a
    # certificate it stays off and `k8shost-agent logs/exec` cannot reach the node.
    address = mkOption {
      type = types.str;
      default = "0.0.0.0";
      description = "Address the node API listens on.";
    };
    port = mkOption {
      type = types.port;
      default = 10250;
      description = "Port of the node API (the kubelet's 10250).";
    };
    tlsCertFile = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "/var/lib/k8shost/pki/node.crt";
      description = "PEM certificate of the node API; null: the node API is off.";
    };
    tlsKeyFile = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "/var/lib/k8shost/pki/node.key";
      description = "PEM key of tlsCertFile: a path outside the Nix store (the store is world-readable).";
    };
    openFirewall = mkOption {
      type = types.bool;
      default = false;
      description = "Open the node API's port in the firewall (when tlsCertFile is set).";
    };

    containerd = {
      manage = mkOption {
        type = types.bool;
        default = true;
        description = ''
          Enable and configure virtualisation.containerd for the node. Off: the
          operator runs a CRI runtime (set settings.runtime.endpoint), with
          cni.binDir and cni.confDir as its CNI directories.
        '';
      };
      sandboxImage = mkOption {
        type = types.str;
        default = "registry.k8s.io/pause:3.10";
        description = ''
          The pod sandbox ("pause") image. Pre-load it with seedImages where
          nodes must start pods without a registry.
        '';
      };
      restrictOOMScoreAdj = mkOption {
        type = types.bool;
        default = false;
        description = ''
          containerd's restrict_oom_score_adj. Leave false on a real node. Only
          where containerd runs without CAP_SYS_RESOURCE (a container, some
          VMs) runc cannot set the sandbox's oom_score_adj to -998 and
          RunPodSandbox fails ("can't get final child's PID from pipe: EOF");
          true clamps every container's oom_score_adj to containerd's own and
          so undoes the QoS ordering the agent asks for.
        '';
      };
      seedImages = mkOption {
        type = types.listOf types.package;
        default = [ ];
        example = lib.literalExpression "[ (pkgs.dockerTools.buildImage { name = \"pause\"; tag = \"3.10\"; /* ... */ }) ]";
        description = ''
          Image archives (docker-archive or OCI tarballs, gzipped or not, such
          as pkgs.dockerTools.buildImage outputs) imported into containerd's
          k8s.io namespace before the agent starts, as
          services.kubernetes.kubelet.seedDockerImages does.
        '';
      };
    };

    cni = {
      binDir = mkOption {
        type = types.str;
        default = "/opt/cni/bin";
        description = ''
          containerd's CNI bin_dir. novanet (novanet.enable) and the reference
          loopback and portmap plugins are linked here, replacing files of those
          names.
        '';
      };
      confDir = mkOption {
        type = types.str;
        default = "/etc/cni/net.d";
        description = "containerd's CNI conf_dir; novanet's conflist is linked here.";
      };
      pluginsPackage = mkOption {
        type = types.package;
        default = pkgs.cni-plugins;
        defaultText = lib.literalExpression "pkgs.cni-plugins";
        description = "The reference CNI plugins: loopback (containerd's) and portmap (the conflist's).";
      };
    };

    novanet = {
      enable = lib.mkEnableOption "NovaNET pod networking (the novanet CNI plugin; network.mode novanet)";
      package = mkOption {
        type = types.package;
        default = programs.novanet;
        defaultText = lib.literalMD "`novanet` of this repository (nix/packages)";
        description = "The novanet CNI plugin package.";
      };
      serverAddress = mkOption {
        type = types.str;
        default = "";
        example = "10.0.0.2:9696";
        description = "host:port (or unix:PATH) of NovaNET.";
      };
      tokenFile = mkOption {
        type = types.str;
        default = "/etc/novanet/token";
        description = "File holding the node's NovaNET token. A path on the node, never a store path.";
      };
      mode = mkOption {
        type = types.enum [
          "ovs"
          "bridge"
        ];
        default = "ovs";
        description = ''
          ovs: pod veths on Open vSwitch's integration bridge br-int (enables
          virtualisation.vswitch); bridge: one Linux bridge per subnet holding
          the gateway address (br_netfilter and its sysctls are set).
        '';
      };
      defaultSubnetId = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = ''
          Subnet of pods without a plasmacloud.io/subnet-id annotation; null:
          such pods are refused.
        '';
      };
    };

    lightningstor = {
      enable = lib.mkEnableOption "the LightningStor CSI driver (lightningstor-csi)";
      package = mkOption {
        type = types.package;
        default = programs.lightningstor-csi;
        defaultText = lib.literalMD "`lightningstor-csi` of this repository (nix/packages)";
        description = "The lightningstor-csi package.";
      };
      address = mkOption {
        type = types.str;
        default = "";
        example = "10.0.0.5:7080";
        description = "host:port (or unix:/path) of LightningStor.";
      };
      tokenFile = mkOption {
        type = types.str;
        default = "/etc/lightningstor-csi/token";
        description = "File holding the driver's LightningStor token. A path on the node, never a store path.";
      };
      orgId = mkOption {
        type = types.str;
        default = "";
        description = "The tenant the driver provisions for: organisation (required by the driver).";
      };
      projectId = mkOption {
        type = types.str;
        default = "";
        description = "The tenant the driver provisions for: project (required by the driver).";
      };
      extraFlags = mkOption {
        type = types.listOf types.str;
        default = [ ];
        example = [
          "--max-volumes-per-node"
          "64"
        ];
        description = "Extra arguments of lightningstor-csi (`lightningstor-csi --help`).";
      };
    };
  };

  config = lib.mkIf cfg.enable (
    lib.mkMerge [
      {
        assertions = [
          {
            assertion = cfg.controlPlane.address != "";
            message = "services.k8shost-node.controlPlane.address must be set (host:port of the k8shost API server).";
          }
          {
            assertion = isSecretPath cfg.controlPlane.tokenFile;
            message = "services.k8shost-node.controlPlane.tokenFile must be an absolute path outside the Nix store.";
          }
          {
            assertion = builtins.match dnsSubdomain cfg.nodeName != null && builtins.stringLength cfg.nodeName <= 253;
            message = "services.k8shost-node.nodeName '${cfg.nodeName}' is not a DNS subdomain name (set it, or networking.hostName).";
          }
          {
            assertion = (cfg.tlsCertFile == null) == (cfg.tlsKeyFile == null) && (cfg.tlsKeyFile != null -> isSecretPath cfg.tlsKeyFile);
            message = "services.k8shost-node: set tlsCertFile and tlsKeyFile together (the node API serves TLS only), the key at an absolute path outside the Nix store.";
          }
          {
            assertion = cfg.novanet.enable -> cfg.novanet.serverAddress != "" && isSecretPath cfg.novanet.tokenFile;
            message = "services.k8shost-node.novanet needs serverAddress and tokenFile (an absolute path outside the Nix store).";
          }
          {
            assertion =
              cfg.lightningstor.enable
              -> cfg.lightningstor.address != ""
                && cfg.lightningstor.orgId != ""
                && cfg.lightningstor.projectId != ""
                && isSecretPath cfg.lightningstor.tokenFile;
            message = "services.k8shost-node.lightningstor needs address, orgId, projectId and tokenFile (an absolute path outside the Nix store).";
          }
        ];

        warnings = lib.optional (cfg.containerd.manage && !cfg.novanet.enable) ''
          services.k8shost-node: containerd is managed but novanet is off, so containerd's
          CNI conf dir (${cfg.cni.confDir}) holds no pod network: pods stay without a sandbox
          until a conflist is put there.
        '';

        services.k8shost-node.settings = lib.mapAttrsRecursive (_: lib.mkDefault) (
          import ../lib/agent-settings.nix { inherit cfg; }
        );

        # The CLI (pods, nodes, create -f, config check) for operators.
        environment.systemPackages = [ cfg.package ];

        boot.kernelModules = [ "overlay" ]; # containerd's overlayfs snapshotter
        boot.kernel.sysctl."net.ipv4.ip_forward" = lib.mkDefault 1;

        # No firewall port is opened unless asked: the agent dials the control
        # plane, /healthz with /metrics listen on 127.0.0.1:10248, containerd's
        # CRI socket is local; the node API's port only with openFirewall.
        networking.firewall.allowedTCPPorts = lib.mkIf (cfg.openFirewall && cfg.tlsCertFile != null) [ cfg.port ];

        systemd.services.k8shost-netns = {
          inherit (units.netns)
            description
            before
            wantedBy
            serviceConfig
            script
            ;
          path = [ pkgs.util-linux ];
        };

        systemd.services.k8shost-agent = {
          inherit (units.agent)
            description
            after
            wants
            wantedBy
            unitConfig
            ;
          # mount/umount for tmpfs volumes; systemd-notify for READY=1 and the
          # watchdog (agent/src/observe/sd-notify.ts). Both are looked up in FHS
          # directories first, which NixOS does not have, then on PATH.
          # nft for Services (agent/src/services, one nft -f - per change): all of them in bridge mode, node ports in ovs mode.
          path = [
            pkgs.util-linux
            config.systemd.package
            pkgs.nftables
          ];
          serviceConfig = units.agent.serviceConfig // {
            # agent/bin/k8shost-agent (the package's launcher) passes the node
            # flags packaging/systemd sets through NODE_OPTIONS.
            ExecStart = utils.escapeSystemdExecArgs (
              [
                (lib.getExe cfg.package)
                "run"
                "--config"
                "${agentConfig}"
              ]
              ++ cfg.extraFlags
            );
          }
          // lib.optionalAttrs (cfg.environmentFile != null) { EnvironmentFile = cfg.environmentFile; };
        };
      }

      (lib.mkIf cfg.containerd.manage {
        assertions = [
          {
            assertion = (config.virtualisation.containerd.settings.version or 2) == 2;
            message = "services.k8shost-node writes containerd config version 2 keys (plugins.\"io.containerd.grpc.v1.cri\"); virtualisation.containerd.settings.version is ${toString (config.virtualisation.containerd.settings.version or 2)}.";
          }
        ];
        virtualisation.containerd.enable = true;
        # As packaging/containerd/10-k8shost.toml, at mkDefault so that an
        # operator's virtualisation.containerd.settings wins key by key. Version
        # 2 keys, as nixpkgs' own modules write them; containerd 2.x migrates them.
        virtualisation.containerd.settings = lib.mapAttrsRecursive (_: lib.mkDefault) {
          version = 2;
          plugins."io.containerd.grpc.v1.cri" = {
            sandbox_image = cfg.containerd.sandboxImage;
            restrict_oom_score_adj = cfg.containerd.restrictOOMScoreAdj;
            containerd = {
              snapshotter = "overlayfs";
              default_runtime_name = "runc";
              # The agent names pod cgroup parents cgroupfs-style
              # (<cgroupRoot>/.../pod<uid>): runc's cgroupfs driver, not systemd's.
              runtimes.runc = {
                runtime_type = "io.containerd.runc.v2";
                options.SystemdCgroup = false;
              };
            };
            cni = {
              # Over nixpkgs' default (cni-plugins' store path): one directory
              # holding novanet and the reference plugins; containerd 1.x takes one.
              bin_dir = cfg.cni.binDir;
              conf_dir = cfg.cni.confDir;
              # The first conflist is the pod network: novanet's alone.
              max_conf_num = 1;
            };
            # Per-registry hosts.toml (mirrors, CAs, plain-HTTP registries).
            registry.config_path = "/etc/containerd/certs.d";
          };
        };
      })

      (lib.mkIf (cfg.containerd.seedImages != [ ]) {
        systemd.services.k8shost-seed-images = {
          description = "Import k8shost-node's seed images into containerd";
          after = [ "containerd.service" ];
          requires = [ "containerd.service" ];
          # Before the agent, but not required by it: without its images the
          # agent still runs and reports the pods that cannot start.
          before = [ "k8shost-agent.service" ];
          wantedBy = [
            "k8shost-agent.service"
            "multi-user.target"
          ];
          path = [
            pkgs.containerd
            pkgs.gzip
          ];
          serviceConfig = {
            Type = "oneshot";
            RemainAfterExit = true;
          };
          script = lib.concatMapStrings (img: ''
            echo "importing ${img}"
            ${if lib.hasSuffix "gz" "${img}" then "zcat" else "cat"} ${img} \
              | ctr --address ${lib.escapeShellArg containerdSocket} -n k8s.io images import --all-platforms -
          '') cfg.containerd.seedImages;
        };
      })

      # containerd runs what is in its CNI bin and conf dirs; tmpfiles links
      # them to this generation's store paths at boot and on every switch.
      # loopback is containerd's own need (every sandbox's lo), portmap the
      # conflist's second plugin.
      (lib.mkIf (cfg.containerd.manage || cfg.novanet.enable) {
        systemd.tmpfiles.settings."10-k8shost-cni-plugins" = {
          ${cfg.cni.binDir}.d.mode = "0755";
          "${cfg.cni.binDir}/loopback"."L+".argument = "${cfg.cni.pluginsPackage}/bin/loopback";
          "${cfg.cni.binDir}/portmap"."L+".argument = "${cfg.cni.pluginsPackage}/bin/portmap";
        };
      })

      (lib.mkIf cfg.novanet.enable {
        # dhcpcd (NixOS's default for networking.useDHCP) runs on every
        # interface its config does not deny, and its built-in list denies
        # tap*, vnet*, ... but not these: novanet's host veths (nv<hex>), its
        # per-subnet bridges (nvbr<hash>) and OVS's br-int would get DHCP
        # requests, then link-local addresses and routes.
        networking.dhcpcd.denyInterfaces = [ "nv*" ] ++ lib.optional ovs "br-int";

        systemd.tmpfiles.settings."10-k8shost-cni" = {
          "${cfg.cni.binDir}/novanet"."L+".argument = "${novanetPlugin}/bin/novanet";
          ${cfg.cni.confDir}.d.mode = "0755";
          "${cfg.cni.confDir}/${conflistName}"."L+".argument = "${conflist}";
        };
      })

      (lib.mkIf ovs {
        virtualisation.vswitch.enable = true;
        # br-int, novanet's integration bridge, before pods are started. A
        # oneshot of its own rather than networking.vswitches: that one deletes
        # its bridge when stopped, and with it every pod's port.
        systemd.services.k8shost-br-int = {
          description = "Open vSwitch integration bridge br-int for novanet";
          after = [ "ovs-vswitchd.service" ];
          requires = [ "ovs-vswitchd.service" ];
          before = [
            "containerd.service"
            "k8shost-agent.service"
          ];
          wantedBy = [
            "containerd.service"
            "multi-user.target"
          ];
          serviceConfig = {
            Type = "oneshot";
            RemainAfterExit = true;
          };
          script = "${config.virtualisation.vswitch.package}/bin/ovs-vsctl --may-exist add-br br-int";
        };
      })

      (lib.mkIf bridgeMode {
        # Bridged pod traffic through iptables (portmap's DNAT, the host's
        # filters), as services.kubernetes.kubelet sets it.
        boot.kernelModules = [ "br_netfilter" ];
        boot.kernel.sysctl = {
          "net.bridge.bridge-nf-call-iptables" = lib.mkDefault 1;
          "net.bridge.bridge-nf-call-ip6tables" = lib.mkDefault 1;
        };
      })

      (lib.mkIf cfg.lightningstor.enable {
        boot.kernelModules = [ "loop" ];
        systemd.services.lightningstor-csi = {
          inherit (units.csi)
            description
            after
            wants
            wantedBy
            unitConfig
            ;
          # losetup, blkid, mount; mkfs/resize/fsck of ext4 and xfs.
          path = [
            pkgs.util-linux
            pkgs.e2fsprogs
            pkgs.xfsprogs
          ];
          serviceConfig = units.csi.serviceConfig // {
            ExecStart = utils.escapeSystemdExecArgs (
              [ (lib.getExe cfg.lightningstor.package) ]
              ++ import ../lib/csi-args.nix {
                inherit (cfg) settings lightningstor;
              }
            );
          };
        };
      })
    ]
  );
}
