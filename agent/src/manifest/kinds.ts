// The kinds a manifest may hold and how each body becomes a contract object:
// checked field by field against its message (strict.ts), then converted by
// the generated fromJSON, which by then has nothing left to drop.
import { ConfigMap, EndpointSlice, Pod, Secret, Service } from "@plasmacloud/proto/k8shost";
import { k8shostMessage } from "@plasmacloud/proto/k8shost/descriptor";
import { checkMessage, type FieldIssue } from "./strict";
import { got, isPlainObject } from "./values";

/** Kubernetes kinds with a message of the same name in the contract. */
export const KINDS = ["Pod", "ConfigMap", "Secret", "Service", "EndpointSlice"] as const;
export type ManifestKind = (typeof KINDS)[number];
export const API_VERSION = "v1";
/** Each kind's group/version, as kubectl wants it written. */
export const API_VERSIONS: Record<ManifestKind, string> = { Pod: API_VERSION, ConfigMap: API_VERSION, Secret: API_VERSION, Service: API_VERSION, EndpointSlice: "discovery.k8s.io/v1" };

export function isManifestKind(k: string): k is ManifestKind {
  return (KINDS as readonly string[]).includes(k);
}

/** A decoded document: `doc` is its position in the file, for messages about it. */
export type ManifestObject =
  | { kind: "Pod"; doc: number; object: Pod }
  | { kind: "ConfigMap"; doc: number; object: ConfigMap }
  | { kind: "Secret"; doc: number; object: Secret }
  | { kind: "Service"; doc: number; object: Service }
  | { kind: "EndpointSlice"; doc: number; object: EndpointSlice };

export type DecodeResult = { issues: FieldIssue[]; object?: undefined } | { issues: []; object: ManifestObject };

/** `body` is the document without apiVersion and kind, which are not fields of the messages. */
export function decodeBody(kind: ManifestKind, body: Record<string, unknown>, doc: number): DecodeResult {
  switch (kind) {
    case "Pod": {
      const issues = checkMessage(k8shostMessage("Pod"), body);
      return issues.length ? { issues } : { issues: [], object: { kind, doc, object: Pod.fromJSON(body) } };
    }
    case "ConfigMap": {
      const issues = checkMessage(k8shostMessage("ConfigMap"), body);
      return issues.length ? { issues } : { issues: [], object: { kind, doc, object: ConfigMap.fromJSON(body) } };
    }
    case "Secret":
      return decodeSecret(body, doc);
    case "Service": {
      const issues = checkMessage(k8shostMessage("Service"), body);
      return issues.length ? { issues } : { issues: [], object: { kind, doc, object: Service.fromJSON(body) } };
    }
    case "EndpointSlice": {
      const issues = checkMessage(k8shostMessage("EndpointSlice"), body);
      return issues.length ? { issues } : { issues: [], object: { kind, doc, object: EndpointSlice.fromJSON(body) } };
    }
  }
}

/**
 * kubectl's Secret has `data` (base64, the contract's bytes) and `stringData`
 * (plain text, which the API server merges into data, winning on a shared
 * key). The contract has only data, so stringData is taken off before the
 * strict walk and merged in the API server's way after it.
 */
function decodeSecret(body: Record<string, unknown>, doc: number): DecodeResult {
  const { stringData, ...rest } = body;
  const issues = checkMessage(k8shostMessage("Secret"), rest);
  const plain: Record<string, string> = {};
  if (stringData !== undefined && stringData !== null) {
    if (!isPlainObject(stringData)) issues.push({ path: "stringData", message: `expected a map of strings, got ${got(stringData)}` });
    else {
      for (const [k, v] of Object.entries(stringData)) {
        if (typeof v === "string") plain[k] = v;
        else issues.push({ path: `stringData[${JSON.stringify(k)}]`, message: `expected a string, got ${got(v)}` });
      }
    }
  }
  if (issues.length) return { issues };
  const secret = Secret.fromJSON(rest);
  for (const [k, v] of Object.entries(plain)) secret.data[k] = Buffer.from(v, "utf8");
  return { issues: [], object: { kind: "Secret", doc, object: secret } };
}
