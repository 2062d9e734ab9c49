// NodeService of the stand-in: idempotent registration, heartbeats.
import { status } from "@grpc/grpc-js";
import type { GetNodeRequest, HeartbeatRequest, HeartbeatResponse, ListNodesRequest, ListNodesResponse, Node, NodeServiceServer, RegisterNodeRequest } from "@plasmacloud/proto/k8shost";
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
