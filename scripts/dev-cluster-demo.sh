# Sourced by dev-cluster.sh after the sample pod runs (its cli, DEV_DIR,
# NET_MODE, REGISTRY_ADDR, wait_for): the issue's demo, a Deployment-like pair
# behind a Service, reached by name from a third pod through FlashDNS.
#
# FlashDNS (the control-plane stand-in's --dns, on the host's port 5353) is
# reached as the agent's clusterDNS, 10.96.0.10: a Service without selector
# whose EndpointSlice is the host's address the pods reach (ovs: the node's
# management port nvmp0, which the first pod's ADD made; bridge: the subnet's
# gateway on the host bridge). It answers each pod in that pod's own tenant.

# Runs a command in pod $1 through the node API (argument arrays end to end).
in_pod() { local pod=$1; shift; cli exec "$pod" --certificate-authority "$DEV_DIR/node-api.crt" -- "$@"; }

dns_endpoint() {
  if [ "$NET_MODE" = ovs ]; then ip -4 -o addr show dev nvmp0 | awk '{split($4, a, "/"); print a[1]; exit}'
  else echo 10.88.0.1; fi
}

demo() {
  local dns_ip; dns_ip=$(dns_endpoint)
  [ -n "$dns_ip" ] || { echo "dev-cluster: no host address for FlashDNS (nvmp0 missing?)" >&2; return 1; }
  # The slice names the host's address of this run: made afresh each time.
  cli services get flashdns >/dev/null 2>&1 && cli services delete flashdns >/dev/null
  cat > "$DEV_DIR/flashdns.yaml" <<YAML
apiVersion: v1
kind: Service
metadata: { name: flashdns }
spec: { clusterIP: 10.96.0.10, ports: [{ name: dns, protocol: UDP, port: 53, targetPort: 5353 }, { name: dns-tcp, protocol: TCP, port: 53, targetPort: 5353 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: flashdns-host, labels: { kubernetes.io/service-name: flashdns } }
addressType: IPv4
endpoints: [{ addresses: ["$dns_ip"], conditions: { ready: true } }]
ports: [{ name: dns, protocol: UDP, port: 5353 }, { name: dns-tcp, protocol: TCP, port: 5353 }]
YAML
  cli create -f "$DEV_DIR/flashdns.yaml" >/dev/null
  sed -e 's/name: hello,/name: hello-2,/' "$DEV_DIR/sample-pod.yaml" > "$DEV_DIR/sample-pod-2.yaml"
  cat > "$DEV_DIR/client-pod.yaml" <<YAML
metadata: { name: client }
spec:
  containers:
    - name: sh
      image: $REGISTRY_ADDR/plasmacloud/busybox:1.0
      command: ["sleep", "100000"]
      resources: { requests: { cpu: 10m, memory: 8Mi }, limits: { cpu: 100m, memory: 32Mi } }
YAML
  cli pods get hello-2 >/dev/null 2>&1 || cli pods create -f "$DEV_DIR/sample-pod-2.yaml" >/dev/null
  cli pods get client >/dev/null 2>&1 || cli pods create -f "$DEV_DIR/client-pod.yaml" >/dev/null
  wait_for "pods hello-2 and client to run" 60 sh -c "cd '$repo' && K8SHOST_SERVER_ADDR=$CP_ADDR K8SHOST_TOKEN_FILE=$DEV_DIR/user.token agent/bin/k8shost-agent pods list | awk '\$1 == \"hello-2\" || \$1 == \"client\"' | grep -c Running | grep -qx 2"
  local name=hello.default.svc.cluster.local answers="" a
  # busybox nc resolves the name through the pod's resolv.conf (10.96.0.10); its wget crashes in this image.
  for _ in $(seq 1 30); do
    a=$(in_pod client sh -c 'printf "GET / HTTP/1.0\r\n\r\n" | nc -w 2 "$1" 80 | tail -n 1' sh "$name" 2>/dev/null) || a=""
    [ -n "$a" ] && answers=$(printf '%s\n%s' "$answers" "$a" | sed '/^$/d' | sort -u)
    [ "$(printf '%s\n' "$answers" | grep -c .)" -ge 2 ] && break
    sleep 0.2
  done
  echo "From pod client, http://$name/ (FlashDNS, then the Service's load balancer) answered:"
  printf '%s\n' "${answers:-(no answer)}" | sed 's/^/  /'
}
