// The API server's checks of env valueFrom and envFrom (ValidateEnv,
// ValidateEnvFrom), done on the node so a bad reference fails the pod with a
// message naming the field instead of surfacing later as a config error.
import type { Container } from "@plasmacloud/proto/k8shost";
import { ENV_FIELD_PATHS, fieldRefProblem } from "./fieldpath";
import { isEnvVarName } from "./resolve";
import { resourceFieldProblem } from "./resources";

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

function keyProblem(k: string): string | undefined {
  if (!k) return "key: must not be empty";
  if (k.length > 253 || !CONFIG_KEY.test(k)) return `key: '${k}' must consist of alphanumeric characters, '-', '_' or '.'`;
  return undefined;
}

/** The first problem with the container's env sources, named by field path under `f`. */
export function envProblem(c: Container, f: string): string | undefined {
  for (const [j, e] of c.env.entries()) {
    const from = e.valueFrom;
    if (!from) continue;
    const p = `${f}.env[${j}].valueFrom`;
    // The API server refuses both rather than pick one: the user meant one of them.
    if (e.value !== "") return `${p}: may not be specified when \`value\` is not empty`;
    const set = [from.fieldRef, from.resourceFieldRef, from.configMapKeyRef, from.secretKeyRef].filter((x) => x !== undefined).length;
    if (set === 0) return `${p}: must specify one of: fieldRef, resourceFieldRef, configMapKeyRef or secretKeyRef`;
    if (set > 1) return `${p}: may not have more than one field specified at a time`;
    let bad: string | undefined;
    let at = "";
    if (from.fieldRef) [at, bad] = ["fieldRef", fieldRefProblem(from.fieldRef, ENV_FIELD_PATHS)];
    else if (from.resourceFieldRef) [at, bad] = ["resourceFieldRef", resourceFieldProblem(from.resourceFieldRef)];
    else {
      const ref = (from.configMapKeyRef ?? from.secretKeyRef)!;
      at = from.configMapKeyRef ? "configMapKeyRef" : "secretKeyRef";
      bad = ref.name ? keyProblem(ref.key) : "name: must not be empty";
    }
    if (bad) return `${p}.${at}.${bad}`;
  }
  for (const [j, from] of c.envFrom.entries()) {
    const p = `${f}.envFrom[${j}]`;
    const refs = [from.configMapRef, from.secretRef].filter((x) => x !== undefined);
    if (refs.length === 0) return `${p}: must specify one of: configMapRef or secretRef`;
    if (refs.length > 1) return `${p}: may not have more than one field specified at a time`;
    if (!refs[0]!.name) return `${p}.${from.configMapRef ? "configMapRef" : "secretRef"}.name: must not be empty`;
    if (from.prefix && !isEnvVarName(from.prefix)) return `${p}.prefix: '${from.prefix}' is not a valid environment variable name`;
  }
  return undefined;
}
