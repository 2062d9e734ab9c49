// Manifest files -> typed contract objects, all or nothing: every document is
// judged before the caller creates anything, and one error lists every
// problem found, each naming its document and field path
// ("doc 2 (Pod web): spec.fooBar: unknown field").
import { CodedError } from "@plasmacloud/common/errors";
import { splitDocuments, type RawDocument } from "./documents";
import { API_VERSIONS, decodeBody, isManifestKind, type ManifestKind, type ManifestObject } from "./kinds";
import { renderIssue } from "./strict";
import { got, isPlainObject } from "./values";

export { KINDS, type ManifestKind, type ManifestObject } from "./kinds";

export interface DecodeOptions {
  /** Kinds the command takes: `create` all of KINDS, `pods create` only Pod. */
  accept: readonly ManifestKind[];
  /**
   * The kind of a document that names none. Only `pods create`, whose
   * manifests never needed apiVersion and kind (our own `pods get -o yaml`
   * prints none), sets it; `create` needs the kind to know the message.
   */
  impliedKind?: ManifestKind;
  /** For objects without metadata.namespace. */
  namespace: string;
  /** The namespace was asked for (-n): an object in another one is an error, as in kubectl, not a surprise. */
  namespaceExplicit?: boolean;
}

/** Problems listed in one error; past this the first ones say enough. */
const MAX_LISTED = 50;

/** Throws CodedError("InvalidArgument") naming every problem of the file; `source` names the file in it. */
export function decodeManifests(text: string, source: string, opts: DecodeOptions): ManifestObject[] {
  const { docs, errors } = splitDocuments(text);
  const objects: ManifestObject[] = [];
  const seen = new Map<string, number>();
  for (const d of docs) {
    const r = decodeDocument(d, opts);
    if (r.errors) {
      errors.push(...r.errors);
      continue;
    }
    const o = r.object;
    const meta = o.object.metadata!;
    // Two documents for one object: the second create would fail after the first succeeded.
    const key = `${o.kind}/${meta.namespace}/${meta.name}`;
    const first = seen.get(key);
    if (first !== undefined) errors.push(`${r.label}: the same ${o.kind} as doc ${first}`);
    else seen.set(key, d.index);
    objects.push(o);
  }
  if (errors.length === 0 && objects.length === 0) errors.push("no objects in the file");
  if (errors.length > 0) {
    const listed = errors.slice(0, MAX_LISTED);
    const more = errors.length > MAX_LISTED ? `\n  ... and ${errors.length - MAX_LISTED} more` : "";
    const text = errors.length === 1 ? `${source}: ${errors[0]}` : `${source}: ${errors.length} errors:\n  ${listed.join("\n  ")}${more}`;
    throw new CodedError("InvalidArgument", text, { file: source, errors: errors.length });
  }
  return objects;
}

type DocResult = { errors: string[]; object?: undefined; label?: undefined } | { errors?: undefined; object: ManifestObject; label: string };

function decodeDocument(d: RawDocument, opts: DecodeOptions): DocResult {
  const fail = (msg: string): DocResult => ({ errors: [msg] });
  if (!isPlainObject(d.value)) return fail(`doc ${d.index}: expected an object (a manifest), got ${got(d.value)}`);
  // apiVersion and kind say which message the rest is; they are not fields of it.
  const { apiVersion, kind: kindValue, ...body } = d.value;
  const named = isPlainObject(body.metadata) && typeof body.metadata.name === "string" && body.metadata.name ? ` ${body.metadata.name}` : "";

  let kind: ManifestKind;
  if (kindValue === undefined || kindValue === null) {
    if (!opts.impliedKind) return fail(`doc ${d.index}: kind is missing (accepted: ${opts.accept.join(", ")})`);
    kind = opts.impliedKind;
  } else if (typeof kindValue !== "string") {
    return fail(`doc ${d.index}: kind: expected a string, got ${got(kindValue)}`);
  } else if (!isManifestKind(kindValue) || !opts.accept.includes(kindValue)) {
    const why = isManifestKind(kindValue) ? "is not accepted here" : "is not supported";
    return fail(`doc ${d.index}${named ? ` (${kindValue}${named})` : ""}: kind ${JSON.stringify(kindValue)} ${why} (accepted: ${opts.accept.join(", ")})`);
  } else kind = kindValue;
  const label = `doc ${d.index} (${kind}${named})`;

  if (apiVersion === undefined || apiVersion === null) {
    // kubectl refuses a kind without its group/version; only an implied kind may go without both.
    if (kindValue !== undefined && kindValue !== null) return fail(`${label}: apiVersion is missing (want ${API_VERSIONS[kind]})`);
  } else if (typeof apiVersion !== "string") {
    return fail(`${label}: apiVersion: expected a string, got ${got(apiVersion)}`);
  } else if (apiVersion !== API_VERSIONS[kind]) {
    return fail(`${label}: apiVersion ${JSON.stringify(apiVersion)} is not served for ${kind} (want ${API_VERSIONS[kind]})`);
  }

  const r = decodeBody(kind, body, d.index);
  if (!r.object) return { errors: r.issues.map((i) => `${label}: ${renderIssue(i)}`) };
  // Checked here and not left to the server: a document it refuses after the
  // ones before it were created would leave the file half applied.
  const meta = r.object.object.metadata;
  if (!meta?.name) return fail(`${label}: metadata.name: required`);
  if (!meta.namespace) meta.namespace = opts.namespace;
  else if (opts.namespaceExplicit && meta.namespace !== opts.namespace) {
    return fail(`${label}: metadata.namespace ${JSON.stringify(meta.namespace)} differs from the namespace asked for (${JSON.stringify(opts.namespace)})`);
  }
  return { object: r.object, label };
}
