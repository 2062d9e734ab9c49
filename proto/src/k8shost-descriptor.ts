// Reflection over the k8shost contract, for readers that must know its exact
// fields rather than what ts-proto's fromJSON happens to pick up (the CLI's
// strict manifest decoding). Import from "@plasmacloud/proto/k8shost/descriptor".
// A separate entry from "./k8shost" so the agent loop, the stand-ins and the
// other programs never pay for decoding the descriptor set.
import { createFileRegistry, fromBinary, ScalarType, type DescMessage, type FileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { k8shostDescriptorSet } from "../gen/k8shost/v1/k8shost.descriptor";

// Readers walk descriptors with these; re-exported so that a reader depends on
// this package alone, not on the reflection library behind it.
export { ScalarType };
export type { DescEnum, DescField, DescMessage, DescOneof } from "@bufbuild/protobuf";

export const K8SHOST_PACKAGE = "k8shost.v1";

let registry: FileRegistry | undefined;

/** The contract's registry (k8shost.v1 and google.protobuf.Timestamp), decoded on first use. */
export function k8shostRegistry(): FileRegistry {
  registry ??= createFileRegistry(fromBinary(FileDescriptorSetSchema, Buffer.from(k8shostDescriptorSet, "base64")));
  return registry;
}

/** A k8shost message by its name in the contract ("Pod", "PodSpec", "WatchEvent"). */
export function k8shostMessage(name: string): DescMessage {
  const m = k8shostRegistry().getMessage(`${K8SHOST_PACKAGE}.${name}`);
  if (!m) throw new Error(`k8shost.v1.${name} is not a message of the k8shost contract`);
  return m;
}

/**
 * String fields whose Kubernetes JSON form may also be a number: IntOrString
 * ports and resource quantities (`port: 8080`, `cpu: 1`). A reader of
 * Kubernetes manifests takes the number as its decimal string; for a map the
 * rule covers its values. Keyed by "<message full name>.<proto field name>".
 */
export const NUMBER_AS_STRING_FIELDS: ReadonlySet<string> = new Set([
  "k8shost.v1.HTTPGetAction.port",
  "k8shost.v1.TCPSocketAction.port",
  "k8shost.v1.ServicePort.target_port",
  "k8shost.v1.ResourceRequirements.requests",
  "k8shost.v1.ResourceRequirements.limits",
  "k8shost.v1.ResourceFieldSelector.divisor",
  "k8shost.v1.EmptyDirVolumeSource.size_limit",
]);
