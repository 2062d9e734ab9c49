// Strict check of a parsed manifest (plain JSON values from YAML) against a
// message of the contract, before ts-proto's fromJSON converts it. fromJSON
// keeps what it knows and drops the rest without a word, so a field the
// contract lacks (securityContext) or a value of the wrong shape would vanish
// between the user's file and the control plane; this walk names each one with
// its path instead, as kubectl's strict field validation does.
//
// The rules are protobuf JSON's, narrowed to what the generated fromJSON
// consumes: a field by its JSON name (camelCase) or its proto name
// (snake_case), null for "unset", 64-bit integers as numbers or numeric
// strings, bytes as base64, enums by value name (or number), Timestamp as an
// RFC 3339 string, wrappers as their bare value, Struct/Value/ListValue as
// any JSON.
import { NUMBER_AS_STRING_FIELDS, type DescField, type DescMessage } from "@plasmacloud/proto/k8shost/descriptor";
import { checkEnum, checkScalar, got, isPlainObject, noun, wellKnown, type ValueType } from "./values";

/** One problem at one place in a document. */
export interface FieldIssue {
  /** Where, as a user would point at it: `spec.containers[0].command`; "" is the document itself. */
  path: string;
  message: string;
}

export function renderIssue(i: FieldIssue): string {
  return i.path ? `${i.path}: ${i.message}` : i.message;
}

/** A document with thousands of mistakes is not read to the end: the first ones say enough. */
export const MAX_ISSUES = 50;

/** The problems of `value` as a `desc` message; empty when fromJSON will keep every bit of it. */
export function checkMessage(desc: DescMessage, value: unknown, path = ""): FieldIssue[] {
  const w = new Walker();
  w.message(desc, value, path);
  return w.issues;
}

const fieldIndex = new WeakMap<DescMessage, Map<string, DescField>>();

/** Fields by both of the names a protobuf JSON parser accepts. */
function fieldsByName(desc: DescMessage): Map<string, DescField> {
  let m = fieldIndex.get(desc);
  if (!m) {
    m = new Map();
    for (const f of desc.fields) {
      m.set(f.jsonName, f);
      m.set(f.name, f);
    }
    fieldIndex.set(desc, m);
  }
  return m;
}

const join = (path: string, key: string): string => (path ? `${path}.${key}` : key);
const mapKeyPath = (path: string, key: string): string => `${path}[${JSON.stringify(key)}]`;

class Walker {
  readonly issues: FieldIssue[] = [];

  private add(path: string, message: string): void {
    if (this.issues.length < MAX_ISSUES) this.issues.push({ path, message });
  }

  private get full(): boolean {
    return this.issues.length >= MAX_ISSUES;
  }

  message(desc: DescMessage, value: unknown, path: string): void {
    const wkt = wellKnown(desc);
    if (wkt) {
      const problem = wkt.check(value);
      if (problem) this.add(path, problem);
      return;
    }
    if (!isPlainObject(value)) {
      this.add(path, `expected ${noun({ message: desc }, false)}, got ${got(value)}`);
      return;
    }
    const byName = fieldsByName(desc);
    const seen = new Map<DescField, string>();
    for (const [key, v] of Object.entries(value)) {
      if (this.full) return;
      const at = join(path, key);
      const field = byName.get(key);
      if (!field) {
        this.add(at, `unknown field${hint(desc, key)}`);
        continue;
      }
      const earlier = seen.get(field);
      if (earlier !== undefined) {
        // fromJSON would keep one of the two silently: say which two collide.
        this.add(at, `set twice (also as ${earlier})`);
        continue;
      }
      seen.set(field, key);
      // null is "unset" in protobuf JSON (and what YAML gives for `key:`).
      if (v !== null) this.field(field, numbersAsStrings(field, v, value, key), at);
    }
    for (const oneof of desc.oneofs) {
      const set = oneof.fields.filter((f) => seen.has(f) && value[seen.get(f)!] !== null);
      if (set.length > 1) this.add(path, `only one of ${set.map((f) => seen.get(f)).join(", ")} may be set (oneof ${oneof.name})`);
    }
  }

  private field(f: DescField, v: unknown, path: string): void {
    switch (f.fieldKind) {
      case "scalar":
        return this.value({ scalar: f.scalar }, v, path);
      case "enum":
        return this.value({ enum: f.enum }, v, path);
      case "message":
        return this.message(f.message, v, path);
      case "list": {
        const t: ValueType = f.listKind === "scalar" ? { scalar: f.scalar } : f.listKind === "enum" ? { enum: f.enum } : { message: f.message };
        if (!Array.isArray(v)) return this.add(path, `expected a list of ${noun(t, true)}, got ${got(v)}`);
        v.forEach((item: unknown, i) => {
          if (item === null) this.add(`${path}[${i}]`, `expected ${noun(t, false)}, got null`);
          else this.value(t, item, `${path}[${i}]`);
        });
        return;
      }
      case "map": {
        const t: ValueType = f.mapKind === "scalar" ? { scalar: f.scalar } : f.mapKind === "enum" ? { enum: f.enum } : { message: f.message };
        if (!isPlainObject(v)) return this.add(path, `expected a map of ${noun(t, true)}, got ${got(v)}`);
        for (const [key, item] of Object.entries(v)) {
          if (this.full) return;
          const at = mapKeyPath(path, key);
          const keyProblem = checkScalar(f.mapKey, key, true);
          if (keyProblem) this.add(at, `bad key: ${keyProblem}`);
          else if (item === null) this.add(at, `expected ${noun(t, false)}, got null`);
          else this.value(t, item, at);
        }
        return;
      }
    }
  }

  private value(t: ValueType, v: unknown, path: string): void {
    if ("message" in t) return this.message(t.message, v, path);
    const problem = "enum" in t ? checkEnum(t.enum, v) : checkScalar(t.scalar, v, false);
    if (problem) this.add(path, problem);
  }
}

/**
 * An IntOrString or quantity written as a number (`port: 8080`, `cpu: 1`) is
 * rewritten in place as its string, which is what fromJSON then reads.
 */
function numbersAsStrings(f: DescField, v: unknown, parent: Record<string, unknown>, key: string): unknown {
  if (!NUMBER_AS_STRING_FIELDS.has(`${f.parent.typeName}.${f.name}`)) return v;
  const asString = (x: unknown): unknown => (typeof x === "number" && Number.isFinite(x) ? String(x) : x);
  if (f.fieldKind === "map" && isPlainObject(v)) {
    for (const [k, item] of Object.entries(v)) v[k] = asString(item);
    return v;
  }
  const out = asString(v);
  parent[key] = out;
  return out;
}

/** kubectl says only "unknown field"; a case slip (imagepullpolicy) is worth naming the real one. */
function hint(desc: DescMessage, key: string): string {
  const k = key.toLowerCase().replaceAll("_", "");
  const f = desc.fields.find((x) => x.jsonName.toLowerCase() === k);
  return f ? ` (did you mean "${f.jsonName}"?)` : "";
}
