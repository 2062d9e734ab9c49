// A small kubectl-like client against the control plane: pods and nodes.
import { Command } from "commander";
import { stringify } from "yaml";
import {
  DeletePodRequest,
  GetPodRequest,
  ListNodesRequest,
  ListPodsRequest,
  Node,
  Pod,
} from "@plasmacloud/proto/k8shost";
import { intArg } from "./args";
import { connect, withConn, type ConnOpts } from "./conn";
import { createFromFile, type FileOpts } from "./create";
import { nodeRow, podRow, table } from "./print";

/** `json` is the messages' toJSON form (int64 already strings). */
function print(o: ConnOpts, json: unknown, rows: () => string): void {
  if (o.output === "json") process.stdout.write(JSON.stringify(json, null, 2) + "\n");
  else if (o.output === "yaml") process.stdout.write(stringify(json));
  else process.stdout.write(rows());
}

export function podsCommand(): Command {
  const pods = new Command("pods").description("pods on the control plane");
  withConn(pods.command("create").description("create pods from a YAML/JSON file (apiVersion/kind optional; several documents separated by ---)").requiredOption("-f, --file <file>", "pod manifest, - for stdin")).action((o: FileOpts, cmd: Command) =>
    createFromFile(o, cmd, ["Pod"], "Pod"),
  );
  withConn(pods.command("get").argument("<name>").description("show one pod")).action(async (name: string, o: ConnOpts) => {
    const cp = connect(o);
    try {
      const pod = await cp.call("GetPod", cp.pods.getPod.bind(cp.pods), GetPodRequest.fromPartial({ ref: { namespace: o.namespace, name } }));
      print(o, Pod.toJSON(pod), () => table([podRow(pod, o.output === "wide")], o.output === "wide"));
    } finally {
      cp.close();
    }
  });
  withConn(pods.command("list").description("list pods"))
    .option("-A, --all-namespaces", "all namespaces")
    .option("-l, --selector <k=v,...>", "label selector")
    .option("--node <name>", "pods bound to this node")
    .action(async (o: ConnOpts & { allNamespaces?: boolean; selector?: string; node?: string }) => {
      const labelSelector: Record<string, string> = {};
      for (const kv of (o.selector ?? "").split(",").filter(Boolean)) {
        const [k, v = ""] = kv.split("=");
        labelSelector[k!.trim()] = v.trim();
      }
      const cp = connect(o);
      try {
        const res = await cp.call("ListPods", cp.pods.listPods.bind(cp.pods), ListPodsRequest.fromPartial({ namespace: o.allNamespaces ? "" : o.namespace, labelSelector, nodeName: o.node ?? "" }));
        print(o, res.items.map((p) => Pod.toJSON(p)), () => table(res.items.map((p) => podRow(p, o.output === "wide")), o.output === "wide"));
      } finally {
        cp.close();
      }
    });
  withConn(pods.command("delete").argument("<name>").description("delete a pod (graceful)"))
    .option("--grace-period <s>", "seconds to wait before killing", intArg)
    .action(async (name: string, o: ConnOpts & { gracePeriod?: number }) => {
      const cp = connect(o);
      try {
        const req = DeletePodRequest.fromPartial({ ref: { namespace: o.namespace, name }, gracePeriodSeconds: o.gracePeriod === undefined ? undefined : BigInt(o.gracePeriod) });
        await cp.call("DeletePod", cp.pods.deletePod.bind(cp.pods), req);
        process.stdout.write(`pod/${name} deleted\n`);
      } finally {
        cp.close();
      }
    });
  return pods;
}

export function nodesCommand(): Command {
  const nodes = new Command("nodes").description("nodes of the cluster");
  withConn(nodes.command("list").description("list nodes")).action(async (o: ConnOpts) => {
    const cp = connect(o);
    try {
      const res = await cp.call("ListNodes", cp.nodes.listNodes.bind(cp.nodes), ListNodesRequest.fromPartial({}));
      print(o, res.items.map((n) => Node.toJSON(n)), () => table(res.items.map(nodeRow), false, ["NAME", "STATUS", "AGE", "VERSION", "INTERNAL-IP", "RUNTIME"]));
    } finally {
      cp.close();
    }
  });
  return nodes;
}
