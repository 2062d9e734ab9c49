// Package entry for the k8shost control-plane contract. Import from
// "@plasmacloud/proto/k8shost", never from proto/gen directly.
export * from "../gen/k8shost/v1/k8shost";
