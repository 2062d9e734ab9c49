// NodeService of the stand-in: idempotent registration (the whole object,
// spec.taints included, as the agent sends it), heartbeats.
import { status } from "@grpc/grpc-js";
import type { GetNodeRequest, HeartbeatRequest, HeartbeatResponse, ListNodesRequest, ListNodesResponse, Node, NodeServiceServer, RegisterNodeRequest, Taint } from "@plasmacloud/proto/k8shost";
import type { TokenStore } from "../iam/tokens";
import { ApiError, checkNodeName, invalid, notFound } from "./authz";
import { unary } from "./rpc";
import type { Store } from "./store";

export function nodeService(store: Store, tokens: TokenStore, onChange: () => void): NodeServiceServer {
  return {
    registerNode: unary(tokens, (req: RegisterNodeRequest, who): Node => {
      const n = req.node;
      const name = n?.metadata?.name ?? "";
      if (!name) throw invalid("node.metadata.name", "must not be empty");
      checkNodeName(who, name);
      validateTaints(n!.spec?.taints ?? []);
      const prev = store.nodes.get(name);
      const node = structuredClone(n!);
      node.metadata!.uid = prev?.metadata?.uid ?? store.newUid();
      node.metadata!.creationTimestamp = prev?.metadata?.creationTimestamp ?? new Date();
      node.metadata!.resourceVersion = store.nextRv();
      // Conditions belong to heartbeats; a re-registration keeps them.
      if (prev?.status && node.status && node.status.conditions.length === 0) node.status.conditions = prev.status.conditions;
      store.nodes.set(name, node);
      onChange();
      return structuredClone(node);
    }),

    heartbeat: unary(tokens, (req: HeartbeatRequest, who): HeartbeatResponse => {
      checkNodeName(who, req.nodeName);
      const node = store.nodes.get(req.nodeName);
      if (!node) throw notFound(`node ${req.nodeName}`);
      if (!node.status) throw new ApiError(status.FAILED_PRECONDITION, `node ${req.nodeName} has no status; register again`);
      node.status.conditions = req.conditions;
      node.metadata!.resourceVersion = store.nextRv();
      onChange();
      return { resourceVersion: node.metadata!.resourceVersion, heartbeatIntervalSeconds: 10 };
    }),

    getNode: unary(tokens, (req: GetNodeRequest): Node => {
      const n = store.nodes.get(req.name);
      if (!n) throw notFound(`node ${req.name}`);
      return structuredClone(n);
    }),

    listNodes: unary(tokens, (req: ListNodesRequest): ListNodesResponse => {
      const items = [...store.nodes.values()].filter((n) => Object.entries(req.labelSelector).every(([k, v]) => n.metadata?.labels[k] === v));
      return { items: structuredClone(items), resourceVersion: String(store.rv) };
    }),
  };
}

const EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"];
const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The API server's validateNodeTaints: a qualified-name key, a label value, a known effect, one taint per key and effect. */
function validateTaints(taints: Taint[]): void {
  const seen = new Set<string>();
  for (const [i, t] of taints.entries()) {
    const f = `node.spec.taints[${i}]`;
    const parts = t.key.split("/");
    const name = parts.at(-1)!;
    const keyOk = parts.length <= 2 && name.length <= 63 && NAME.test(name) && (parts.length === 1 || (parts[0]!.length <= 253 && SUBDOMAIN.test(parts[0]!)));
    if (!keyOk) throw invalid(`${f}.key`, `'${t.key}' is not a qualified name`);
    if (t.value && !(t.value.length <= 63 && NAME.test(t.value))) throw invalid(`${f}.value`, `'${t.value}' is not a valid label value`);
    if (!EFFECTS.includes(t.effect)) throw invalid(`${f}.effect`, `'${t.effect}' is not one of ${EFFECTS.join(", ")}`);
    if (seen.has(`${t.key}:${t.effect}`)) throw invalid(`${f}`, `taints must be unique by key and effect ('${t.key}', ${t.effect})`);
    seen.add(`${t.key}:${t.effect}`);
  }
}
