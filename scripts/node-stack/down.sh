#!/usr/bin/env bash
# Stops the node stack that up.sh started: containerd (its pods' shims with
# it), the registries, OVN, Open vSwitch. Idempotent.
#   bash scripts/node-stack/down.sh            stop; state stays for the next up.sh
#   bash scripts/node-stack/down.sh --purge    stop and remove the stack's state too
#                                              (its dirs, the CNI result cache): the
#                                              next up.sh starts as on a fresh machine
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
[ "$(id -u)" = 0 ] || { echo "node-stack: run as root" >&2; exit 1; }


# Pods first, while containerd still answers: their sandboxes hold netns and mounts.
if [ -S "$CONTAINERD_SOCK" ] && ctr --address "$CONTAINERD_SOCK" --timeout 2s version >/dev/null 2>&1; then
  for t in $(ctr --address "$CONTAINERD_SOCK" -n k8s.io tasks ls -q 2>/dev/null); do
    ctr --address "$CONTAINERD_SOCK" -n k8s.io tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true
  done
fi
stop_pidfile "$PLASMA_RUN_DIR/containerd.pid"
# Shims outlive containerd by design; without containerd nothing reaps them.
pkill -9 -f "containerd-shim-runc-v2 -namespace k8s.io -address $CONTAINERD_SOCK" 2>/dev/null || true
stop_pidfile "$PLASMA_RUN_DIR/registry-open.pid"
stop_pidfile "$PLASMA_RUN_DIR/registry-auth.pid"
bash "$here/ovn.sh" stop  # before OVS: ovn-controller talks to it
stop_pidfile "$PLASMA_RUN_DIR/ovs/ovs-vswitchd.pid"
stop_pidfile "$PLASMA_RUN_DIR/ovs/ovsdb-server.pid"

if [ "${1:-}" = --purge ]; then
  # containerd's pod network namespaces and its mounts (overlay rootfs, shm).
  for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^cni-/ {print $1}'); do ip netns del "$ns" 2>/dev/null || true; done
  for root in "$PLASMA_STACK_DIR" "$PLASMA_RUN_DIR"; do
    awk -v r="$root/" 'index($5, r) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  done
  ip link del br-int 2>/dev/null || true
  ip link del ovs-netdev 2>/dev/null || true
  for b in $(ip -o link show type bridge 2>/dev/null | awk -F': ' '$2 ~ /^nvbr/ {print $2}'); do ip link del "$b" 2>/dev/null || true; done
  rm -rf "$PLASMA_STACK_DIR" "$PLASMA_RUN_DIR" /var/lib/cni/results
  echo "node-stack: stopped and purged"
else
  echo "node-stack: stopped (state kept in $PLASMA_STACK_DIR)"
fi
