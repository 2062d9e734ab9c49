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
