# The systemd policy of the node's services: what packaging/systemd/*.service
# (the units of the node tarball) say, in NixOS's terms. The module adds what
# is specific to a NixOS host (ExecStart with store paths, `path`, the
# environment file); nix/test/unit/module.test.ts compares these directives
# with packaging/systemd/ and fails on a difference that is not listed there
# with its reason.
#
# Plain builtins only (tested with `nix-instantiate --eval`).
{ }:
let
  # Hardening both services live with: seccomp filters that V8 and every tool
  # they run accept, and no privilege gain through setuid binaries (mount, ip,
  # nsenter, losetup run as root already).
  #
  # Deliberately absent, for both:
  # - ProtectSystem=, ProtectHome=, PrivateTmp=, ReadWritePaths=,
  #   PrivateDevices=, ProtectKernel*=, ProtectControlGroups=,
  #   PrivateMounts=: each gives the unit its own mount namespace, whose mounts
  #   never reach the host (systemd.exec(5), MountFlags=: with another
  #   namespacing setting on, shared "does not reestablish propagation"). The
  #   agent mounts tmpfs for secret and memory-backed emptyDir volumes, the CSI
  #   driver stages and publishes volumes: containerd, in the host's mount
  #   namespace, binds those paths into pods and would find empty directories.
  # - CapabilityBoundingSet=: mounts, setns (novanet CHECK) and loop devices
  #   need CAP_SYS_ADMIN; with that kept, a bound adds little.
  # - MemoryDenyWriteExecute=: V8 compiles JavaScript to executable memory.
  # - RestrictNamespaces=, RestrictAddressFamilies=: novanet's calls enter pod
  #   network namespaces and use netlink, unix and raw sockets.
  hardening = {
    NoNewPrivileges = true;
    LockPersonality = true;
    RestrictRealtime = true;
    SystemCallArchitectures = "native";
  };
in
{
  agent = {
    description = "PlasmaCloud k8shost node agent";
    # No Wants=containerd.service: the agent runs, and reports the node
    # NotReady, while its runtime is down; another CRI runtime may replace
    # containerd.
    after = [
      "containerd.service"
      "network-online.target"
    ];
    wants = [ "network-online.target" ];
    wantedBy = [ "multi-user.target" ];
    unitConfig = {
      # Never give up restarting (the kubelet's unit does the same).
      StartLimitIntervalSec = 0;
    };
    serviceConfig = hardening // {
      # READY=1 once it serves, then WATCHDOG=1 every WatchdogSec/2 while its
      # /healthz health is good (agent/src/observe/sd-notify.ts). systemd-notify
      # sends them (Node has no AF_UNIX datagram sockets) and waits on a
      # barrier from its own pid, which only NotifyAccess=all lets through.
      Type = "notify";
      NotifyAccess = "all";
      WatchdogSec = "30s";
      Restart = "always";
      # Short: a restarted agent re-adopts its sandboxes from their CRI labels.
      RestartSec = "5s";
      # A stop or restart signals the agent only: pods are containerd's (their
      # shims live in containerd's cgroup), and a plugin call or mount in
      # flight is better finished than killed halfway.
      KillMode = "process";
      # The agent manages pod cgroups (<cgroupRoot>/{burstable,besteffort}/
      # pod<uid>); below this unit's cgroup systemd must leave them to it.
      Delegate = true;
      LimitNOFILE = 1048576;
      # Under memory pressure pods go before the node's agent.
      OOMScoreAdjust = -999;
      # Not RestrictSUIDSGID=: fsGroup volumes get
      # setgid directories (agent/src/volumes/ownership.ts, as the kubelet's
      # SetVolumeOwnership does), and that filter makes the chmod fail EPERM.
    };
  };

  csi = {
    description = "LightningStor CSI driver";
    # LightningStor is remote. No order against the agent: it finds the driver
    # by its registration socket whenever that appears.
    after = [ "network-online.target" ];
    wants = [ "network-online.target" ];
    wantedBy = [ "multi-user.target" ];
    unitConfig = {
      StartLimitIntervalSec = 0;
    };
    serviceConfig = hardening // {
      # It sends no readiness: started = exec'd (a missing binary fails the start).
      Type = "exec";
      Restart = "always";
      RestartSec = "5s";
      # A restart never kills an mkfs, resize2fs or mount halfway; loop
      # devices and mounts are the kernel's and outlive the process anyway.
      KillMode = "process";
      LimitNOFILE = 1048576;
      OOMScoreAdjust = -999;
      # It sets no setuid/setgid bit on anything.
      RestrictSUIDSGID = true;
      StateDirectory = "lightningstor-csi";
      StateDirectoryMode = "0700";
    };
  };

  # /run/netns a shared mount point before containerd makes any pod network
  # namespace there. iproute2's first `ip netns add` bind-mounts /run/netns
  # onto itself; done on a running node, that mount shadows containerd's
  # cni-* namespaces and StopPodSandbox fails for ever with "device or
  # resource busy". Doing what iproute2 does, first, makes the order safe.
  netns = {
    description = "Shared /run/netns for pod network namespaces";
    before = [ "containerd.service" ];
    # Enabled, containerd's start pulls it in, whoever manages containerd.
    wantedBy = [
      "containerd.service"
      "multi-user.target"
    ];
    serviceConfig = {
      Type = "oneshot";
      RemainAfterExit = true;
    };
    # Bind it onto itself only if it is not a mount point yet: a second bind
    # mount would itself shadow namespaces already there.
    script = ''
      mkdir -p /run/netns
      mountpoint -q /run/netns || mount --bind /run/netns /run/netns
      mount --make-shared /run/netns
    '';
  };
}
