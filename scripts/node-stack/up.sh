#!/usr/bin/env bash
# Brings up the real node stack the tests and the dev cluster run against:
# containerd (own config, own socket), two local OCI registries (one open, one
# with htpasswd auth), the test images, Open vSwitch and OVN (ovs.sh, ovn.sh).
# Idempotent: what runs is left alone.
# Needs root. Prints nothing on success beyond a summary line.
set -euo pipefail
# Daemons started here must not inherit our caller's descriptors: under
# `flock /tmp/plasma-it.lock bash up.sh` the lock's fd would live on in
# containerd/OVS and hold the shared test lock for ever. (flock's own fd
# keeps the lock until this script ends.)
for fd in "/proc/$$/fd"/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/env.sh"
[ "$(id -u)" = 0 ] || { echo "node-stack: run as root" >&2; exit 1; }
bash "$here/install.sh"
mkdir -p "$PLASMA_STACK_DIR" "$PLASMA_RUN_DIR"
logs=$PLASMA_STACK_DIR/logs; mkdir -p "$logs"
sysctl -qw net.ipv4.ip_forward=1 || true

alive() { ours "$1"; }  # env.sh: a reused pid is not our daemon

# --- registries ---------------------------------------------------------------
start_registry() { # NAME ADDR [HTPASSWD]
  local name=$1 addr=$2 auth=${3:-} dir=$PLASMA_STACK_DIR/registry-$1
  alive "$PLASMA_RUN_DIR/registry-$name.pid" && return 0
  mkdir -p "$dir/data"
  {
    echo "version: 0.1"
    echo "log: {level: warn}"
    echo "storage: {filesystem: {rootdirectory: $dir/data}, delete: {enabled: true}}"
    echo "http: {addr: $addr}"
    [ -n "$auth" ] && echo "auth: {htpasswd: {realm: plasmacloud-test, path: $auth}}"
  } > "$dir/config.yml"
  setsid docker-registry serve "$dir/config.yml" >"$logs/registry-$name.log" 2>&1 < /dev/null &
  echo $! > "$PLASMA_RUN_DIR/registry-$name.pid"
}
htp=$PLASMA_STACK_DIR/registry-auth.htpasswd
[ -f "$htp" ] || htpasswd -Bbn "$AUTH_REGISTRY_USER" "$AUTH_REGISTRY_PASSWORD" > "$htp"
start_registry open "$REGISTRY_ADDR"
start_registry auth "$AUTH_REGISTRY_ADDR" "$htp"

# --- containerd ---------------------------------------------------------------
cfg=$PLASMA_STACK_DIR/containerd.toml
certs=$PLASMA_STACK_DIR/certs.d
for addr in "$REGISTRY_ADDR" "$AUTH_REGISTRY_ADDR"; do
  mkdir -p "$certs/$addr"
  printf 'server = "http://%s"\n\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' "$addr" "$addr" > "$certs/$addr/hosts.toml"
done
# containerd's own CNI sees only loopback: pod networking is the agent's (via
# its network seam); until NovaNET is wired in, the dev conflist below is used.
mkdir -p "$PLASMA_STACK_DIR/cni/net.d" "$PLASMA_STACK_DIR/cni/bin"
# containerd 1.6 takes one bin_dir: link the reference plugins into ours,
# beside which our own plugin (novanet) is installed.
for p in /usr/lib/cni/*; do ln -sfn "$p" "$PLASMA_STACK_DIR/cni/bin/$(basename "$p")"; done
cat > "$cfg" <<TOML
version = 2
root = "$PLASMA_STACK_DIR/containerd/root"
state = "$PLASMA_RUN_DIR/containerd/state"
[grpc]
  address = "$CONTAINERD_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$REGISTRY_ADDR/plasmacloud/pause:1.0"
  # Required on these machines: without CAP_SYS_RESOURCE runc cannot set
  # oom_score_adj=-998 for the sandbox and RunPodSandbox fails.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$PLASMA_STACK_DIR/cni/bin"
    conf_dir = "$PLASMA_STACK_DIR/cni/net.d"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$certs"
TOML
# Pod network: containerd runs the novanet plugin (then portmap) and passes
# each sandbox's annotations, where k8shost-agent puts the pod's tenant and
# subnet. The node's NovaNET endpoint is $NOVANET_ADDR (tests and the dev
# cluster serve the NovaNET stand-in there), authenticated by a node token.
novanet_token=$PLASMA_STACK_DIR/novanet.token
[ -s "$novanet_token" ] || (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$novanet_token")
plugin=$repo/cni-plugin/dist/novanet
# Rebuilt when any source bundled into it is newer: the plugin, @plasmacloud/common,
# proto's entries and contracts, the generated NovaNET code.
if [ ! -x "$plugin" ] || [ -n "$(find "$repo/cni-plugin/src" "$repo/common/src" "$repo/proto/src" "$repo/proto/gen/novanet" -newer "$plugin" -name '*.ts' 2>/dev/null | head -1)" ]; then
  (cd "$repo" && npm run build -w cni-plugin >/dev/null)
fi
install -m 0755 "$plugin" "$PLASMA_STACK_DIR/cni/bin/novanet"
rm -f "$PLASMA_STACK_DIR/cni/net.d/10-plasma-bridge.conflist"  # the interim bridge network of earlier versions
cat > "$PLASMA_STACK_DIR/cni/net.d/10-novanet.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "novanet",
  "plugins": [
    { "type": "novanet", "mode": "bridge",
      "novanet": { "server_addr": "$NOVANET_ADDR", "token_file": "$novanet_token", "timeout_ms": 5000 },
      "capabilities": { "io.kubernetes.cri.pod-annotations": true } },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
JSON
# /run/netns must be a shared mount point before containerd makes any pod
# netns: the first `ip netns add` on a host otherwise bind-mounts /run/netns
# onto itself over containerd's namespaces, and StopPodSandbox then fails for
# ever with "device or resource busy" (a pod that can never be deleted). This
# is what iproute2 does on its first use; doing it first makes the order safe.
mkdir -p /run/netns
mountpoint -q /run/netns || mount --bind /run/netns /run/netns
mount --make-shared /run/netns
if ! alive "$PLASMA_RUN_DIR/containerd.pid" || ! ctr --address "$CONTAINERD_SOCK" --timeout 2s version >/dev/null 2>&1; then
  # A containerd still shutting down holds the pid file: wait for it to go.
  for _ in $(seq 1 50); do alive "$PLASMA_RUN_DIR/containerd.pid" || break; sleep 0.2; done
  setsid containerd --config "$cfg" >"$logs/containerd.log" 2>&1 < /dev/null &
  echo $! > "$PLASMA_RUN_DIR/containerd.pid"
fi
for _ in $(seq 1 100); do [ -S "$CONTAINERD_SOCK" ] && ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1 && break; sleep 0.1; done
ctr --address "$CONTAINERD_SOCK" version >/dev/null || { echo "node-stack: containerd did not start; see $logs/containerd.log" >&2; exit 1; }

# --- test images --------------------------------------------------------------
img=$PLASMA_STACK_DIR/images
[ -f "$img/busybox.tar" ] && [ -f "$img/pause.tar" ] || bash "$repo/scripts/test-images/build.sh" "$img" >/dev/null
for _ in $(seq 1 50); do curl -fsS "http://$REGISTRY_ADDR/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
push() { # ARCHIVE NAME CREDS
  skopeo copy -q --insecure-policy --dest-tls-verify=false ${3:+--dest-creds "$3"} \
    "oci-archive:$img/$1.tar:1.0" "docker://$2" >/dev/null
}
have() { skopeo inspect --tls-verify=false ${2:+--creds "$2"} "docker://$1" >/dev/null 2>&1; }
have "$REGISTRY_ADDR/plasmacloud/busybox:1.0" || push busybox "$REGISTRY_ADDR/plasmacloud/busybox:1.0"
have "$REGISTRY_ADDR/plasmacloud/pause:1.0" || push pause "$REGISTRY_ADDR/plasmacloud/pause:1.0"
creds="$AUTH_REGISTRY_USER:$AUTH_REGISTRY_PASSWORD"
have "$AUTH_REGISTRY_ADDR/private/busybox:1.0" "$creds" || push busybox "$AUTH_REGISTRY_ADDR/private/busybox:1.0" "$creds"
# The sandbox image is pre-loaded so pods never depend on a registry for it.
if ! ctr --address "$CONTAINERD_SOCK" -n k8s.io images ls -q | grep -qx "$REGISTRY_ADDR/plasmacloud/pause:1.0"; then
  ctr --address "$CONTAINERD_SOCK" -n k8s.io images import --base-name "$REGISTRY_ADDR/plasmacloud/pause" "$img/pause.tar" >/dev/null
fi
bash "$here/ovs.sh"  # Open vSwitch (userspace datapath) + br-int for the novanet CNI plugin
bash "$here/ovn.sh"  # OVN NB/SB, northd, and ovn-controller owning br-int
echo "node-stack: containerd at $CONTAINERD_SOCK, registries at $REGISTRY_ADDR (open) and $AUTH_REGISTRY_ADDR (auth)"
