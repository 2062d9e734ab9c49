#!/usr/bin/env bash
# Starts OVN for the node stack, after ovs.sh: the northbound and southbound
# databases (ovsdb-server each), ovn-northd, and ovn-controller for this node
# against the stack's Open vSwitch, all with their own db, sockets, pids and
# logs (nothing in /etc/ovn or /var/run/ovn). ovn-controller then owns br-int:
# a port forwards only once a logical switch port with its iface-id exists
# (the NovaNET stand-in programs them, stand-ins/src/novanet/ovn.ts).
# Idempotent: what runs is left alone.
#   bash scripts/node-stack/ovn.sh          start (what is not running)
#   bash scripts/node-stack/ovn.sh stop     stop all four (down.sh calls it)
# Sockets: $PLASMA_RUN_DIR/ovn/ovnnb_db.sock and ovnsb_db.sock (the names
# ovn-northd looks for in its run dir); ovn-nbctl --db=unix:<that>.
set -euo pipefail
# Daemons must not inherit our caller's descriptors (see up.sh: the test lock).
for fd in "/proc/$$/fd"/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
[ "$(id -u)" = 0 ] || { echo "ovn: run as root" >&2; exit 1; }
data=$PLASMA_STACK_DIR/ovn
run=$PLASMA_RUN_DIR/ovn
logs=$PLASMA_STACK_DIR/logs
ovs_run=$PLASMA_RUN_DIR/ovs
nb=$run/ovnnb_db.sock
sb=$run/ovnsb_db.sock
export OVN_RUNDIR=$run OVN_LOGDIR=$logs OVN_DBDIR=$data
# ovn-controller finds br-int's OpenFlow socket (br-int.mgmt) in OVS's run dir.
export OVS_RUNDIR=$ovs_run
alive() { ours "$1"; }  # env.sh: a reused pid is not our daemon

if [ "${1:-}" = stop ]; then
  # The controller first: it must not see its databases vanish under it.
  for d in ovn-controller ovn-northd ovnsb_db ovnnb_db; do stop_pidfile "$run/$d.pid"; done
  exit 0
fi

if ! command -v ovn-northd >/dev/null || ! command -v ovn-controller >/dev/null; then
  echo "ovn: ovn-central/ovn-host missing (scripts/node-stack/install.sh)" >&2; exit 1
fi
[ -S "$ovs_run/db.sock" ] || { echo "ovn: Open vSwitch is not running (scripts/node-stack/ovs.sh first)" >&2; exit 1; }
mkdir -p "$data" "$run" "$logs"

start_db() { # NAME SCHEMA SOCK
  local name=$1 schema=$2 sock=$3 db=$data/$1.db
  if [ ! -f "$db" ]; then
    ovsdb-tool create "$db" "$schema"
  elif [ "$(ovsdb-tool needs-conversion "$db" "$schema")" = yes ]; then
    ovsdb-tool convert "$db" "$schema"
  fi
  alive "$run/$name.pid" && return 0
  rm -f "$sock"
  ovsdb-server "$db" --remote="punix:$sock" --pidfile="$run/$name.pid" --unixctl="$run/$name.ctl" \
    --log-file="$logs/$name.log" --detach 2>>"$logs/ovn-start.log" \
    || { echo "ovn: $name did not start; see $logs/$name.log" >&2; exit 1; }
}
start_db ovnnb_db /usr/share/ovn/ovn-nb.ovsschema "$nb"
start_db ovnsb_db /usr/share/ovn/ovn-sb.ovsschema "$sb"
ovn-nbctl --db="unix:$nb" --timeout=10 --no-wait init
ovn-sbctl --db="unix:$sb" --timeout=10 init

if ! alive "$run/ovn-northd.pid"; then
  ovn-northd --ovnnb-db="unix:$nb" --ovnsb-db="unix:$sb" --pidfile="$run/ovn-northd.pid" \
    --unixctl="$run/ovn-northd.ctl" --log-file="$logs/ovn-northd.log" --detach 2>>"$logs/ovn-start.log" \
    || { echo "ovn: ovn-northd did not start; see $logs/ovn-northd.log" >&2; exit 1; }
fi

# This node as an OVN chassis: its name, where the southbound db is, and
# br-int on the userspace datapath (no kernel module here). Geneve to itself
# only: one chassis has no tunnels, but the chassis needs an encap.
chassis=$(hostname | tr '[:upper:]' '[:lower:]')
ovs-vsctl --db="unix:$ovs_run/db.sock" --timeout=10 set Open_vSwitch . \
  "external_ids:system-id=$chassis" "external_ids:ovn-remote=unix:$sb" \
  external_ids:ovn-encap-type=geneve external_ids:ovn-encap-ip=127.0.0.1 \
  external_ids:ovn-bridge=br-int external_ids:ovn-bridge-datapath-type=netdev
if ! alive "$run/ovn-controller.pid"; then
  # (It takes no --unixctl: its control socket is $OVN_RUNDIR/ovn-controller.<pid>.ctl.)
  ovn-controller "unix:$ovs_run/db.sock" --pidfile="$run/ovn-controller.pid" \
    --log-file="$logs/ovn-controller.log" --detach 2>>"$logs/ovn-start.log" \
    || { echo "ovn: ovn-controller did not start; see $logs/ovn-controller.log" >&2; exit 1; }
fi
# Ready once this chassis is in the southbound db: northd and the controller both run.
for _ in $(seq 1 100); do
  [ -n "$(ovn-sbctl --db="unix:$sb" --timeout=5 --bare --columns=name find Chassis "name=$chassis" 2>/dev/null)" ] && exit 0
  sleep 0.1
done
echo "ovn: chassis $chassis did not register in the southbound db; see $logs/ovn-controller.log" >&2
exit 1
