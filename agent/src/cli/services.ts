// `k8shost-agent services get|list|delete`: kubectl's view of Services (NAME,
// TYPE, CLUSTER-IP, PORT(S), AGE). Creating one is `k8shost-agent create -f`.
import { Command } from "commander";
import { stringify } from "yaml";
import { DeleteServiceRequest, GetServiceRequest, ListServicesRequest, Service } from "@plasmacloud/proto/k8shost";
import { connect, withConn, type ConnOpts } from "./conn";
import { age, table } from "./print";

const HEADER = ["NAME", "TYPE", "CLUSTER-IP", "PORT(S)", "AGE"];

export function serviceRow(s: Service): string[] {
  const spec = s.spec;
  const ports = (spec?.ports ?? []).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ""}/${p.protocol || "TCP"}`).join(",");
  return [s.metadata?.name ?? "", spec?.type || "ClusterIP", spec?.clusterIp || "None", ports || "<none>", age(s.metadata?.creationTimestamp)];
}

function print(o: ConnOpts, items: Service[], one: boolean): void {
  const json = items.map((s) => Service.toJSON(s));
  if (o.output === "json") process.stdout.write(JSON.stringify(one ? json[0] : json, null, 2) + "\n");
  else if (o.output === "yaml") process.stdout.write(stringify(one ? json[0] : json));
  else process.stdout.write(table(items.map(serviceRow), false, HEADER));
}

export function servicesCommand(): Command {
  const services = new Command("services").alias("svc").description("Services on the control plane");
  withConn(services.command("get").argument("<name>").description("show one Service")).action(async (name: string, o: ConnOpts) => {
    const cp = connect(o);
    try {
      print(o, [await cp.call("GetService", cp.services.getService.bind(cp.services), GetServiceRequest.fromPartial({ ref: { namespace: o.namespace, name } }))], true);
    } finally {
      cp.close();
    }
  });
  withConn(services.command("list").description("list Services"))
    .option("-A, --all-namespaces", "all namespaces")
    .action(async (o: ConnOpts & { allNamespaces?: boolean }) => {
      const cp = connect(o);
      try {
        const res = await cp.call("ListServices", cp.services.listServices.bind(cp.services), ListServicesRequest.fromPartial({ namespace: o.allNamespaces ? "" : o.namespace }));
        print(o, res.items, false);
      } finally {
        cp.close();
      }
    });
  withConn(services.command("delete").argument("<name>").description("delete a Service (its cluster IP is released)")).action(async (name: string, o: ConnOpts) => {
    const cp = connect(o);
    try {
      await cp.call("DeleteService", cp.services.deleteService.bind(cp.services), DeleteServiceRequest.fromPartial({ ref: { namespace: o.namespace, name } }));
      process.stdout.write(`service/${name} deleted\n`);
    } finally {
      cp.close();
    }
  });
  return services;
}
