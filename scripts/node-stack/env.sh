# Shared locations of the node stack used by tests and the dev cluster.
# Sourced, not run. Override any of them from the environment.
: "${PLASMA_STACK_DIR:=/var/lib/plasmacloud-stack}"
: "${PLASMA_RUN_DIR:=/run/plasmacloud-stack}"
: "${CONTAINERD_SOCK:=$PLASMA_RUN_DIR/containerd.sock}"
: "${REGISTRY_ADDR:=127.0.0.1:5000}"
: "${AUTH_REGISTRY_ADDR:=127.0.0.1:5001}"
: "${NOVANET_ADDR:=127.0.0.1:19696}"
: "${AUTH_REGISTRY_USER:=puller}"
: "${AUTH_REGISTRY_PASSWORD:=pull-secret-pw}"
export PLASMA_STACK_DIR PLASMA_RUN_DIR CONTAINERD_SOCK NOVANET_ADDR REGISTRY_ADDR AUTH_REGISTRY_ADDR AUTH_REGISTRY_USER AUTH_REGISTRY_PASSWORD

# ours PIDFILE: true when the pid in PIDFILE is alive AND is the process that
# file was written for. /run can outlive the processes it names (a machine
# started from a snapshot, a container restarted), and pids are reused: a
# bare `kill -0` then finds some unrelated process alive, the daemon is never
# started, and a stop would kill a stranger. A process started after its pid
# file was written cannot be the one the file names.
ours() {
  local pid start mtime btime tck
  [ -f "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && [ -r "/proc/$pid/stat" ] || return 1
  # Field 22 of /proc/PID/stat, counted after the ")" that ends the command name.
  start=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $20}') || return 1
  [ -n "$start" ] || return 1
  btime=$(awk '$1 == "btime" {print $2}' /proc/stat)
  tck=$(getconf CLK_TCK)
  mtime=$(stat -c %Y "$1")
  # Seconds resolution on both sides: allow one for rounding.
  [ $((btime + start / tck)) -le $((mtime + 1)) ]
}
# stop_pidfile PIDFILE: TERM (then KILL after 5 s) the process if it is ours; drop the file.
stop_pidfile() {
  if ours "$1"; then
    local pid; pid=$(cat "$1")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}
