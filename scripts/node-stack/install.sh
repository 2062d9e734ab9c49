#!/usr/bin/env bash
# Installs the node stack from Debian's packages. Idempotent: only missing
# packages are installed, and apt-get update runs only when something is missing.
set -euo pipefail
pkgs=(containerd runc containernetworking-plugins docker-registry skopeo busybox-static
      protobuf-compiler libprotobuf-dev openvswitch-switch iproute2 iptables
      ethtool                # novanet's ovs mode: the pod end's TX checksumming off (cni-plugin/src/plumbing/offload.ts)
      ovn-central ovn-host   # OVN NB/SB/northd and ovn-controller (ovn.sh)
      nftables               # nft: the agent's Services in bridge mode (agent/src/services), as kube-proxy's nftables mode
      qemu-user-static libc6-arm64-cross  # run the arm64 novanet build here (packaging test, build smoke run)
      libstdc++6-arm64-cross              # and the arm64 Node SEAs (Node links libstdc++; scripts/dist/arm64.ts)
      e2fsprogs xfsprogs util-linux mount apache2-utils kmod procps curl ca-certificates iputils-ping openssl
      systemd shellcheck  # the packaging tests: systemd-analyze verify on the units, shellcheck on install.sh
      nix-bin)            # nix/test: nix-instantiate parses and evaluates the flake's Nix files offline
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "node-stack: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# Debian starts these as services where systemd runs; we run our own instances.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "node-stack: Node.js >= 20 is required (found ${node_major}); install it first" >&2
  exit 1
fi
