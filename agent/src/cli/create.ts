// `k8shost-agent create -f FILE` (Pods, ConfigMaps, Secrets) and the same for
// `pods create -f` (Pods only): read the file, decode it strictly
// (manifest/), and only when every document passed, create the objects.
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { CodedError, errorCode, errorMessage, type ErrorCode } from "@plasmacloud/common/errors";
import type { ControlPlane } from "../controlplane/client";
import { decodeManifests, KINDS, type ManifestKind, type ManifestObject } from "../manifest/decode";
import { connect, withConn, type ConnOpts } from "./conn";

export type FileOpts = ConnOpts & { file: string };

function readManifest(file: string): string {
  try {
    return readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (err) {
    throw new CodedError("InvalidArgument", `cannot read ${file}: ${errorMessage(err)}`);
  }
}

// Config maps and secrets before the pods that mount them (Helm's install
// order): a pod created first would fail its volumes and sit in backoff.
// Services (and their slices) before pods too, as Helm orders them. Within a
// kind the file's order holds.
const ORDER: Record<ManifestKind, number> = { ConfigMap: 0, Secret: 1, Service: 2, EndpointSlice: 3, Pod: 4 };

async function createOne(cp: ControlPlane, o: ManifestObject): Promise<void> {
  switch (o.kind) {
    case "Pod":
      await cp.call("CreatePod", cp.pods.createPod.bind(cp.pods), { pod: o.object });
      return;
    case "ConfigMap":
      await cp.call("CreateConfigMap", cp.configMaps.createConfigMap.bind(cp.configMaps), { configMap: o.object });
      return;
    case "Secret":
      await cp.call("CreateSecret", cp.secrets.createSecret.bind(cp.secrets), { secret: o.object });
      return;
    case "Service":
      await cp.call("CreateService", cp.services.createService.bind(cp.services), { service: o.object });
      return;
    case "EndpointSlice":
      await cp.call("CreateEndpointSlice", cp.endpointSlices.createEndpointSlice.bind(cp.endpointSlices), { endpointSlice: o.object });
      return;
  }
}

/**
 * A bad file throws before any connection is made: nothing is created. A
 * refusal by the control plane (say, AlreadyExists) does not stop the others,
 * as in kubectl; the refusals are reported together at the end.
 */
export async function createFromFile(o: FileOpts, cmd: Command, accept: readonly ManifestKind[], impliedKind?: ManifestKind): Promise<void> {
  const objects = decodeManifests(readManifest(o.file), o.file === "-" ? "<stdin>" : o.file, {
    accept,
    impliedKind,
    namespace: o.namespace,
    namespaceExplicit: cmd.getOptionValueSource("namespace") === "cli",
  });
  const failed: string[] = [];
  let code: ErrorCode | undefined;
  const cp = connect(o);
  try {
    for (const obj of [...objects].sort((a, b) => ORDER[a.kind] - ORDER[b.kind])) {
      const ref = `${obj.kind.toLowerCase()}/${obj.object.metadata!.name}`;
      try {
        await createOne(cp, obj);
        process.stdout.write(`${ref} created\n`);
      } catch (err) {
        failed.push(`${ref}: ${errorMessage(err)}`);
        code ??= errorCode(err);
      }
    }
  } finally {
    cp.close();
  }
  if (failed.length === 1) throw new CodedError(code!, failed[0]!);
  if (failed.length > 1) throw new CodedError(code!, `${failed.length} of ${objects.length} objects not created:\n  ${failed.join("\n  ")}`);
}

export function createCommand(): Command {
  const c = new Command("create")
    .description(`create objects (${KINDS.join(", ")}) from a YAML/JSON file; several documents separated by ---`)
    .requiredOption("-f, --file <file>", "manifest file, - for stdin");
  return withConn(c).action((o: FileOpts, cmd: Command) => createFromFile(o, cmd, KINDS));
}
