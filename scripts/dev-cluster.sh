#!/usr/bin/env bash
# A local single-node dev cluster on this machine (root, Debian):
#   bash scripts/dev-cluster.sh up       install + start everything, run a sample pod
#   bash scripts/dev-cluster.sh status   what runs, the node and its pods
#   bash scripts/dev-cluster.sh down     delete the pods, stop the agent, stand-ins and node stack
# The control plane and NovaNET are the project's stand-ins (stand-ins/); the
# node side (containerd, runc, CNI, the agent) is real.
# Pod network: DEV_NET_MODE=ovs (default): novanet on Open vSwitch's br-int,
# which OVN owns (scripts/node-stack/ovn.sh); the NovaNET stand-in programs
# OVN northbound (a switch per subnet, a router per tenant, the node
# management network), and the host reaches pods through the node's
# management port (nvmp0, made by novanet's first ADD). DEV_NET_MODE=bridge:
# a Linux bridge per subnet holding the gateway address, no OVN.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/scripts/node-stack/env.sh"
. "$repo/scripts/dev-cluster-demo.sh"
DEV_DIR=${DEV_DIR:-/var/lib/plasmacloud-dev}
RUN=$DEV_DIR/run
LOGS=$DEV_DIR/logs
CP_ADDR=${CP_ADDR:-127.0.0.1:6443}
NODE=$(hostname | tr 'A-Z' 'a-z')
ORG=dev-org
PROJECT=dev-project
SUBNET=dev-default
NET_MODE=${DEV_NET_MODE:-ovs}
OVSDB=unix:$PLASMA_RUN_DIR/ovs/db.sock
OVN_NB=unix:$PLASMA_RUN_DIR/ovn/ovnnb_db.sock
MGMT_IF=nvmp0
cli() { K8SHOST_SERVER_ADDR=$CP_ADDR K8SHOST_TOKEN_FILE=$DEV_DIR/user.token "$repo/agent/bin/k8shost-agent" "$@"; }
alive() { ours "$RUN/$1.pid"; }  # node-stack/env.sh: a reused pid is not ours
start() { # NAME CMD...
  local name=$1; shift
  alive "$name" && return 0
  setsid "$@" >"$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN/$name.pid"
}
# Waits for it to end: the NovaNET stand-in removes its OVN objects on the way out.
stop() { alive "$1" && stop_pidfile "$RUN/$1.pid"; rm -f "$RUN/$1.pid"; }
token() { [ -s "$1" ] || (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$1"); cat "$1"; }
wait_for() { # WHAT SECONDS CMD...
  local what=$1 secs=$2; shift 2
  for _ in $(seq 1 $((secs * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "dev-cluster: timed out waiting for $what (logs in $LOGS)" >&2; return 1
}

up() {
  [ "$(id -u)" = 0 ] || { echo "dev-cluster: run as root" >&2; exit 1; }
  case $NET_MODE in ovs|bridge) ;; *) echo "dev-cluster: DEV_NET_MODE must be ovs or bridge, got '$NET_MODE'" >&2; exit 2 ;; esac
  bash "$repo/scripts/node-stack/install.sh"
  [ -d "$repo/node_modules" ] || (cd "$repo" && npm ci --no-audit --no-fund)
  bash "$repo/scripts/node-stack/up.sh"
  mkdir -p "$RUN" "$LOGS"
  local user node novanet
  user=$(token "$DEV_DIR/user.token"); node=$(token "$DEV_DIR/node.token"); novanet=$(cat "$PLASMA_STACK_DIR/novanet.token")
  cat > "$DEV_DIR/tokens.json" <<JSON
{ "$user": { "name": "user:dev", "kind": "user", "orgId": "$ORG", "projectId": "$PROJECT" },
  "$node": { "name": "system:node:$NODE", "kind": "node", "orgId": "", "projectId": "", "nodeName": "$NODE" } }
JSON
  # ovs: the node management network (stand-ins/src/novanet/ovn-mgmt.ts), in NovaNET's own tenant.
  local mgmt=""
  [ "$NET_MODE" = ovs ] && mgmt=',
  "management": { "cidr": "100.64.0.0/24", "mtu": 1450 }'
  cat > "$DEV_DIR/novanet.json" <<JSON
{ "tokens": [ { "token": "$novanet", "name": "system:node:$NODE:cni", "kind": "node" },
              { "token": "$user", "kind": "user", "orgId": "$ORG", "projectId": "$PROJECT" } ],
  "subnets": [ { "id": "$SUBNET", "orgId": "$ORG", "projectId": "$PROJECT", "cidr": "10.88.0.0/24", "gatewayIp": "10.88.0.1", "mtu": 1450 } ]$mgmt }
JSON
  chmod 600 "$DEV_DIR/tokens.json" "$DEV_DIR/novanet.json"
  local tsx=(node --import "file://$repo/node_modules/tsx/dist/loader.mjs")
  start controlplane "${tsx[@]}" "$repo/stand-ins/src/controlplane/main.ts" --listen "$CP_ADDR" --tokens "$DEV_DIR/tokens.json" --dns 0.0.0.0:5353
  local novanet_args=(--listen "$NOVANET_ADDR" --config "$DEV_DIR/novanet.json" --state "$DEV_DIR/novanet-state.json")
  # ovs: NovaNET programs OVN too; its objects go when it stops (the state file keeps the record).
  # Cluster IPs there are OVN load balancers, programmed from the control plane's Services (stand-ins/src/novanet/ovn-lb.ts),
  # and node ports the agent's nftables; in bridge mode the agent's nftables serve both.
  [ "$NET_MODE" = ovs ] && novanet_args+=(--ovn-nb "$OVN_NB" --ovn-prefix dev --ovn-remove-on-stop
    --ovn-lb-control-plane "$CP_ADDR" --ovn-lb-token-file "$DEV_DIR/user.token")
  start novanet "${tsx[@]}" "$repo/stand-ins/src/novanet/main.ts" "${novanet_args[@]}"
  write_conflist
  (cd "$repo" && npm run build -w agent >/dev/null)
  # The node API (exec, attach, port-forward, remote logs) serves TLS only: a
  # self-signed certificate for the address the node reports (its InternalIP).
  local api_ip; api_ip=$(node -e 'for (const l of Object.values(require("os").networkInterfaces())) for (const a of l ?? []) if (a.family === "IPv4" && !a.internal) { console.log(a.address); process.exit(0); } console.log("127.0.0.1")')
  if [ ! -s "$DEV_DIR/node-api.key" ] || [ "$(cat "$DEV_DIR/node-api.ip" 2>/dev/null)" != "$api_ip" ]; then
    (umask 077; openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 -subj "/CN=system:node:$NODE" \
      -addext "subjectAltName=IP:$api_ip,IP:127.0.0.1,DNS:$NODE" -keyout "$DEV_DIR/node-api.key" -out "$DEV_DIR/node-api.crt" 2>/dev/null)
    chmod 644 "$DEV_DIR/node-api.crt"; echo "$api_ip" > "$DEV_DIR/node-api.ip"
  fi
  # ovs: the same ovn block as containerd's conflist (write_conflist), so the agent's CHECK/GC say what its ADD says.
  local ovn=""
  [ "$NET_MODE" = ovs ] && ovn=",
             ovn: { installedTimeoutMs: 10000, management: { orgId: novanet-system, projectId: node-management, subnetId: node-management, ifname: $MGMT_IF } }"
  cat > "$DEV_DIR/agent.yaml" <<YAML
nodeName: $NODE
controlPlane: { address: "$CP_ADDR", tokenFile: $DEV_DIR/node.token }
runtime: { endpoint: "unix://$CONTAINERD_SOCK" }
rootDir: $DEV_DIR/agent
podLogsDir: $DEV_DIR/pod-logs
clusterDNS: { servers: ["10.96.0.10"], domain: cluster.local }
server: { address: "$api_ip", port: 10250, certFile: $DEV_DIR/node-api.crt, keyFile: $DEV_DIR/node-api.key }
network:
  mode: novanet
  novanet: { pluginPath: $PLASMA_STACK_DIR/cni/bin/novanet, networkName: novanet, serverAddress: "$NOVANET_ADDR", tokenFile: $PLASMA_STACK_DIR/novanet.token, mode: $NET_MODE, ovsdb: "$OVSDB", defaultSubnetId: $SUBNET$ovn }
YAML
  wait_for "the control plane" 20 cli nodes list
  start agent "$repo/agent/bin/k8shost-agent" run --config "$DEV_DIR/agent.yaml"
  wait_for "node $NODE to be Ready" 30 sh -c "K8SHOST_SERVER_ADDR=$CP_ADDR K8SHOST_TOKEN_FILE=$DEV_DIR/user.token '$repo/agent/bin/k8shost-agent' nodes list | grep -q ' Ready '"
  cat > "$DEV_DIR/sample-pod.yaml" <<YAML
metadata: { name: hello, labels: { app: hello } }
spec:
  containers:
    - name: web
      image: $REGISTRY_ADDR/plasmacloud/busybox:1.0
      command: ["sh", "-c", "echo hello from \$(hostname) > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"]
      ports: [{ containerPort: 8080 }]
      resources: { requests: { cpu: 50m, memory: 16Mi }, limits: { cpu: 200m, memory: 64Mi } }
YAML
  cat > "$DEV_DIR/sample-service.yaml" <<YAML
apiVersion: v1
kind: Service
metadata: { name: hello }
spec: { selector: { app: hello }, ports: [{ port: 80, targetPort: 8080 }] }
YAML
  cli pods get hello >/dev/null 2>&1 || cli pods create -f "$DEV_DIR/sample-pod.yaml"
  cli services get hello >/dev/null 2>&1 || cli create -f "$DEV_DIR/sample-service.yaml" >/dev/null
  wait_for "pod hello to run" 60 sh -c "K8SHOST_SERVER_ADDR=$CP_ADDR K8SHOST_TOKEN_FILE=$DEV_DIR/user.token '$repo/agent/bin/k8shost-agent' pods get hello | grep -q Running"
  echo
  cli nodes list
  echo
  cli pods list -o wide
  local ip; ip=$(cli pods get hello -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).status.podIp))')
  echo
  echo "The sample pod answers: $(curl -s --max-time 3 "http://$ip:8080/" || echo '(no answer)')"
  # Service hello's cluster IP is for pods (the host has none in ovs mode): asked by name from a third pod.
  demo
  cat <<TXT

Dev cluster is up (node $NODE; logs in $LOGS).
  Use the client:   export K8SHOST_SERVER_ADDR=$CP_ADDR K8SHOST_TOKEN_FILE=$DEV_DIR/user.token
                    agent/bin/k8shost-agent pods create -f $DEV_DIR/sample-pod.yaml   (edit metadata.name first)
                    agent/bin/k8shost-agent pods list -o wide
                    agent/bin/k8shost-agent pods delete hello
  Its logs:         agent/bin/k8shost-agent logs hello --config $DEV_DIR/agent.yaml   (the agent's config says where they are)
  Into the pod:     agent/bin/k8shost-agent exec -it hello --certificate-authority $DEV_DIR/node-api.crt -- sh
                    agent/bin/k8shost-agent port-forward hello 18080:8080 --certificate-authority $DEV_DIR/node-api.crt
  Agent health:     curl -s 127.0.0.1:10248/healthz; curl -s 127.0.0.1:10248/metrics
  Stop it all:      bash scripts/dev-cluster.sh down
TXT
}

# containerd's conflist (node-stack/up.sh writes the bridge-mode one): in ovs
# mode novanet on OVN's br-int, waiting for ovn-installed, with the node's
# management port in the stand-in's management subnet (stand-ins/src/novanet/ovn-mgmt.ts).
write_conflist() {
  [ "$NET_MODE" = ovs ] || return 0
  cat > "$PLASMA_STACK_DIR/cni/net.d/10-novanet.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "novanet",
  "plugins": [
    { "type": "novanet", "mode": "ovs", "bridge": "br-int", "ovsdb": "$OVSDB",
      "novanet": { "server_addr": "$NOVANET_ADDR", "token_file": "$PLASMA_STACK_DIR/novanet.token", "timeout_ms": 5000 },
      "ovn": { "installed_timeout_ms": 10000,
               "management": { "org_id": "novanet-system", "project_id": "node-management", "subnet_id": "node-management", "ifname": "$MGMT_IF" } },
      "capabilities": { "io.kubernetes.cri.pod-annotations": true } },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
JSON
}

down() {
  if alive agent && alive controlplane; then
    for p in $(cli pods list -A -o json 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const p of JSON.parse(s||"[]"))console.log(p.metadata.namespace+"/"+p.metadata.name)})'); do
      K8SHOST_SERVER_ADDR=$CP_ADDR K8SHOST_TOKEN_FILE=$DEV_DIR/user.token "$repo/agent/bin/k8shost-agent" pods delete -n "${p%%/*}" "${p#*/}" --grace-period 5 >/dev/null || true
    done
    wait_for "pods to be removed" 60 sh -c "[ -z \"\$(K8SHOST_SERVER_ADDR=$CP_ADDR K8SHOST_TOKEN_FILE=$DEV_DIR/user.token '$repo/agent/bin/k8shost-agent' pods list -A | tail -n +2)\" ]" || true
  fi
  stop agent; stop novanet; stop controlplane
  # What novanet made for the node and no DEL removes: the management port (its
  # routes go with it) in ovs mode, the subnet's bridge in bridge mode.
  [ -S "$PLASMA_RUN_DIR/ovs/db.sock" ] && ovs-vsctl --db="$OVSDB" --timeout=10 --if-exists del-port br-int "$MGMT_IF" || true
  ip link del "nvbr$(printf %s "$SUBNET" | sha256sum | cut -c1-11)" 2>/dev/null || true
  # The agent keeps its Services table across its own restarts (services.cleanupOnStop off); not past the cluster.
  nft delete table ip k8shost 2>/dev/null || true
  bash "$repo/scripts/node-stack/down.sh" >/dev/null
  echo "dev cluster stopped (state kept in $DEV_DIR; rm -rf it for a clean start)"
}

status() {
  for n in controlplane novanet agent; do printf '%-13s %s\n' "$n" "$(alive $n && echo running || echo stopped)"; done
  local mode; mode=$(sed -n 's/.*mode: \(ovs\|bridge\),.*/\1/p' "$DEV_DIR/agent.yaml" 2>/dev/null)
  printf '%-13s %s\n' network "${mode:-?} mode"
  [ "$mode" = ovs ] && [ -e "/sys/class/net/$MGMT_IF" ] && printf '%-13s %s\n' "$MGMT_IF" "$(ip -br addr show dev "$MGMT_IF" | awk '{print $3}'), routes: $(ip route show dev "$MGMT_IF" | awk '$2 == "via" {printf "%s ", $1}')"
  alive controlplane && { cli nodes list; cli pods list -A -o wide; } || true
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|status|down" >&2; exit 2 ;;
esac
