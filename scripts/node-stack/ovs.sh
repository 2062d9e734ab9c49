#!/usr/bin/env bash
# Starts Open vSwitch for the node stack: ovsdb-server + ovs-vswitchd with
# their own db, sockets and logs (nothing in /etc or /var/run/openvswitch),
# and the integration bridge br-int on the userspace datapath (these machines
# have no openvswitch kernel module). Idempotent: what runs is left alone.
# The database socket is $PLASMA_RUN_DIR/ovs/db.sock (ovs-vsctl --db=unix:...).
set -euo pipefail
# Daemons started here must not inherit our caller's descriptors: under
# `flock /tmp/plasma-it.lock bash up.sh` the lock's fd would live on in
# containerd/OVS and hold the shared test lock for ever. (flock's own fd
# keeps the lock until this script ends.)
for fd in "/proc/$$/fd"/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
[ "$(id -u)" = 0 ] || { echo "ovs: run as root" >&2; exit 1; }
command -v ovs-vswitchd >/dev/null || { echo "ovs: openvswitch-switch missing (scripts/node-stack/install.sh)" >&2; exit 1; }
data=$PLASMA_STACK_DIR/ovs
run=$PLASMA_RUN_DIR/ovs
logs=$PLASMA_STACK_DIR/logs
mkdir -p "$data" "$run" "$logs"
db=$data/conf.db
sock=$run/db.sock
schema=/usr/share/openvswitch/vswitch.ovsschema
export OVS_RUNDIR=$run OVS_LOGDIR=$logs OVS_DBDIR=$data
vsctl() { ovs-vsctl --db="unix:$sock" --timeout=10 "$@"; }
alive() { ours "$1"; }  # env.sh: a reused pid is not our daemon

if [ ! -f "$db" ]; then
  ovsdb-tool create "$db" "$schema"
elif [ "$(ovsdb-tool needs-conversion "$db" "$schema")" = yes ]; then
  ovsdb-tool convert "$db" "$schema"
fi
if ! alive "$run/ovsdb-server.pid"; then
  rm -f "$sock"
  ovsdb-server "$db" --remote="punix:$sock" --pidfile="$run/ovsdb-server.pid" \
    --unixctl="$run/ovsdb-server.ctl" --log-file="$logs/ovsdb-server.log" --detach 2>>"$logs/ovs-start.log" \
    || { echo "ovs: ovsdb-server did not start; see $logs/ovsdb-server.log" >&2; exit 1; }
fi
vsctl --no-wait init
if ! alive "$run/ovs-vswitchd.pid"; then
  ovs-vswitchd "unix:$sock" --pidfile="$run/ovs-vswitchd.pid" \
    --unixctl="$run/ovs-vswitchd.ctl" --log-file="$logs/ovs-vswitchd.log" --detach 2>>"$logs/ovs-start.log" \
    || { echo "ovs: ovs-vswitchd did not start; see $logs/ovs-vswitchd.log" >&2; exit 1; }
fi
vsctl --may-exist add-br br-int -- set bridge br-int datapath_type=netdev
ip link set br-int up 2>/dev/null || true
