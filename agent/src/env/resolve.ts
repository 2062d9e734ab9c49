// A container's final environment, command and args: the kubelet's
// makeEnvironmentVariables and ExpandContainerCommandAndArgs. envFrom first,
// in order (keys that are not variable names are skipped and reported), then
// env in order, each value expanded against what came before it; command and
// args are expanded against the final environment. Taken right before
// CreateContainer, when the pod's IP is known.
import type { Container, EnvVar, Pod } from "@plasmacloud/proto/k8shost";
import { CodedError, errorCode, errorMessage, type ErrorCode } from "@plasmacloud/common/errors";
import type { PodEvents } from "../events/types";
import { expand, lookupIn, type Lookup } from "./expand";
import { podFieldValue, type PodRuntimeFacts } from "./fieldpath";
import type { EnvObjects } from "./objects";
import { resourceFieldValue, type Allocatable } from "./resources";

/** How soon a container waiting on a missing object is looked at again. */
const RETRY_MS = 5_000;

/** The container cannot be configured yet: it waits with CreateContainerConfigError and this message. */
export class EnvError extends CodedError {
  readonly reason = "CreateContainerConfigError";
  readonly retryInMs = RETRY_MS;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, {}, options);
    this.name = "EnvError";
  }
}

export interface ContainerEnvironment {
  env: { name: string; value: string }[];
  command: string[];
  args: string[];
}

export interface EnvContext extends PodRuntimeFacts {
  events: PodEvents;
}

/** validation.IsEnvVarName */
export function isEnvVarName(k: string): boolean {
  return /^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(k) && k !== "." && !k.startsWith("..");
}

const td = new TextDecoder();

/** The objects one container's env names, each read once (the kubelet's per-call maps), in the pod's tenant. */
class Sources {
  private readonly cache = new Map<string, Record<string, string> | undefined>();
  readonly ns: string;

  constructor(private readonly objects: EnvObjects, private readonly pod: Pod) {
    this.ns = pod.metadata!.namespace || "default";
  }

  configMap(name: string): Promise<Record<string, string> | undefined> {
    return this.read("configMap", name, () => this.objects.configMap(this.pod, name));
  }

  secret(name: string): Promise<Record<string, string> | undefined> {
    return this.read("secret", name, async () => {
      const s = await this.objects.secret(this.pod, name);
      return s && Object.fromEntries(Object.entries(s).map(([k, v]) => [k, td.decode(v)]));
    });
  }

  private async read(kind: string, name: string, get: () => Promise<Record<string, string> | undefined>): Promise<Record<string, string> | undefined> {
    const key = `${kind}/${name}`;
    if (this.cache.has(key)) return this.cache.get(key);
    let v: Record<string, string> | undefined;
    try {
      v = await get();
    } catch (err) {
      throw new EnvError(errorCode(err), `couldn't get ${kind} ${this.ns}/${name}: ${errorMessage(err)}`, { cause: err });
    }
    this.cache.set(key, v);
    return v;
  }
}

export class EnvResolver {
  constructor(private readonly objects: EnvObjects, private readonly allocatable: Allocatable) {}

  async resolve(pod: Pod, c: Container, ctx: EnvContext): Promise<ContainerEnvironment> {
    const src = new Sources(this.objects, pod);
    const env = new Map<string, string>();
    for (const from of c.envFrom) {
      const kind = from.configMapRef ? "configMap" : "secret";
      const ref = from.configMapRef ?? from.secretRef;
      if (!ref) continue;
      const data = kind === "configMap" ? await src.configMap(ref.name) : await src.secret(ref.name);
      if (!data) {
        if (ref.optional) continue;
        throw new EnvError("NotFound", `${kind === "configMap" ? "configmap" : "secret"} "${ref.name}" not found`);
      }
      const invalid: string[] = [];
      for (const k of Object.keys(data).sort()) {
        const name = from.prefix + k;
        if (isEnvVarName(name)) env.set(name, data[k]!);
        else invalid.push(name);
      }
      if (invalid.length > 0) {
        ctx.events.emit(pod, "Warning", "InvalidEnvironmentVariableNames", `Keys [${invalid.join(", ")}] from the EnvFrom ${kind} ${src.ns}/${ref.name} were skipped since they are considered invalid environment variable names.`);
      }
    }
    // Each value sees what is defined so far: envFrom and the variables before it.
    const lookup = lookupIn(env);
    for (const e of c.env) {
      const v = await this.value(pod, c, e, ctx, lookup, src);
      if (v !== undefined) env.set(e.name, v);
    }
    return {
      env: [...env].map(([name, value]) => ({ name, value })),
      command: c.command.map((s) => expand(s, lookup)),
      args: c.args.map((s) => expand(s, lookup)),
    };
  }

  /** One variable's value; undefined = skipped (an optional source that is missing). */
  private async value(pod: Pod, c: Container, e: EnvVar, ctx: EnvContext, lookup: Lookup, src: Sources): Promise<string | undefined> {
    const from = e.valueFrom;
    if (e.value !== "" || !from) return expand(e.value, lookup);
    try {
      if (from.fieldRef) return podFieldValue(pod, from.fieldRef.fieldPath, ctx);
      if (from.resourceFieldRef) return resourceFieldValue(from.resourceFieldRef, pod, c, this.allocatable);
    } catch (err) {
      throw new EnvError("InvalidArgument", errorMessage(err), { cause: err });
    }
    const keyRef = from.configMapKeyRef ?? from.secretKeyRef;
    if (!keyRef) return "";
    const isCm = from.configMapKeyRef !== undefined;
    const data = isCm ? await src.configMap(keyRef.name) : await src.secret(keyRef.name);
    if (!data) {
      if (keyRef.optional) return undefined;
      throw new EnvError("NotFound", `${isCm ? "configmap" : "secret"} "${keyRef.name}" not found`);
    }
    if (!Object.hasOwn(data, keyRef.key)) {
      if (keyRef.optional) return undefined;
      throw new EnvError("NotFound", `couldn't find key ${keyRef.key} in ${isCm ? "ConfigMap" : "Secret"} ${src.ns}/${keyRef.name}`);
    }
    return data[keyRef.key];
  }
}
