// Leaf checks of the strict walk (strict.ts): scalars, enums and the
// well-known types ts-proto maps to plain values, and the words errors use to
// say what was expected and what was found.
import { ScalarType, type DescEnum, type DescMessage } from "@plasmacloud/proto/k8shost/descriptor";

/** What a list element or a map value is. */
export type ValueType = { scalar: ScalarType } | { enum: DescEnum } | { message: DescMessage };

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** What was found, for "expected X, got Y". */
export function got(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  switch (typeof v) {
    case "string":
      return `a string (${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)})`;
    case "number":
    case "bigint":
      return `a number (${String(v)})`;
    case "boolean":
      return `a boolean (${String(v)})`;
    case "object":
      return "an object";
    default:
      return typeof v;
  }
}

const INT_RANGE: Partial<Record<ScalarType, readonly [bigint, bigint, string]>> = {
  [ScalarType.INT32]: [-(2n ** 31n), 2n ** 31n - 1n, "int32"],
  [ScalarType.SINT32]: [-(2n ** 31n), 2n ** 31n - 1n, "sint32"],
  [ScalarType.SFIXED32]: [-(2n ** 31n), 2n ** 31n - 1n, "sfixed32"],
  [ScalarType.UINT32]: [0n, 2n ** 32n - 1n, "uint32"],
  [ScalarType.FIXED32]: [0n, 2n ** 32n - 1n, "fixed32"],
  [ScalarType.INT64]: [-(2n ** 63n), 2n ** 63n - 1n, "int64"],
  [ScalarType.SINT64]: [-(2n ** 63n), 2n ** 63n - 1n, "sint64"],
  [ScalarType.SFIXED64]: [-(2n ** 63n), 2n ** 63n - 1n, "sfixed64"],
  [ScalarType.UINT64]: [0n, 2n ** 64n - 1n, "uint64"],
  [ScalarType.FIXED64]: [0n, 2n ** 64n - 1n, "fixed64"],
};

/** [with article, plural] */
function scalarNoun(t: ScalarType): [string, string] {
  const int = INT_RANGE[t];
  if (int) return [`an integer (${int[2]})`, `integers (${int[2]})`];
  switch (t) {
    case ScalarType.STRING:
      return ["a string", "strings"];
    case ScalarType.BOOL:
      return ["a boolean", "booleans"];
    case ScalarType.BYTES:
      return ["a base64 string (bytes)", "base64 strings (bytes)"];
    case ScalarType.FLOAT:
      return ["a number (float)", "numbers (float)"];
    default:
      return ["a number (double)", "numbers (double)"];
  }
}

/** A type's name as the contract's readers know it: "Container", "WatchEvent.Type". */
function shortName(d: DescMessage | DescEnum): string {
  const pkg = d.file.proto.package;
  return pkg && d.typeName.startsWith(`${pkg}.`) ? d.typeName.slice(pkg.length + 1) : d.typeName;
}

/** "a string" / "strings", "an object (Container)" / "objects (Container)". */
export function noun(t: ValueType, plural: boolean): string {
  let pair: [string, string];
  if ("scalar" in t) pair = scalarNoun(t.scalar);
  else if ("enum" in t) pair = [`a ${shortName(t.enum)} value`, `${shortName(t.enum)} values`];
  else pair = wellKnown(t.message)?.noun ?? [`an object (${shortName(t.message)})`, `objects (${shortName(t.message)})`];
  return plural ? pair[1] : pair[0];
}

const DECIMAL = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const FLOAT_MAX = 3.4028234663852886e38;
// Standard or URL-safe alphabet, padding optional (protobuf JSON); line breaks
// are skipped as Go's decoder skips them, so a wrapped PEM in base64 passes.
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * The problem with `v` as a value of scalar type `t`, or undefined. A map key
 * is always a string in JSON, so `asMapKey` takes integers and booleans in
 * their string forms only.
 */
export function checkScalar(t: ScalarType, v: unknown, asMapKey: boolean): string | undefined {
  const expected = (): string => `expected ${scalarNoun(t)[0]}, got ${got(v)}`;
  const int = INT_RANGE[t];
  if (int) {
    const [lo, hi, name] = int;
    let n: bigint;
    if (typeof v === "number" && !asMapKey) {
      if (!Number.isInteger(v)) return expected();
      // YAML and JSON readers turn a long number into a double before we see
      // it: past 2^53 the value the user wrote is already gone.
      if (!Number.isSafeInteger(v)) return lo < -(2n ** 32n) || hi > 2n ** 32n ? `${v} is past 2^53, where a number is rounded when read: write the digits as a quoted string` : `${v} is out of range for ${name}`;
      n = BigInt(v);
    } else if (typeof v === "string" && /^-?\d+$/.test(v)) {
      n = BigInt(v);
    } else return expected();
    return n < lo || n > hi ? `${String(v)} is out of range for ${name}` : undefined;
  }
  switch (t) {
    case ScalarType.STRING:
      return typeof v === "string" ? undefined : expected();
    case ScalarType.BOOL:
      if (asMapKey) return v === "true" || v === "false" ? undefined : expected();
      return typeof v === "boolean" ? undefined : expected();
    case ScalarType.BYTES: {
      if (typeof v !== "string") return expected();
      const s = v.replace(/[\r\n]/g, "");
      const ok = BASE64.test(s) && (s.endsWith("=") ? s.length % 4 === 0 : s.length % 4 !== 1);
      return ok ? undefined : `expected base64-encoded bytes, got ${got(v)}`;
    }
    default: {
      // DOUBLE, FLOAT: a number, or a string protobuf JSON allows.
      if (asMapKey) return expected(); // not a valid map key type in protobuf
      let n: number;
      if (typeof v === "number") n = v;
      else if (typeof v === "string" && (v === "NaN" || v === "Infinity" || v === "-Infinity" || DECIMAL.test(v))) n = Number(v);
      else return expected();
      return t === ScalarType.FLOAT && Number.isFinite(n) && Math.abs(n) > FLOAT_MAX ? `${String(v)} is out of range for float` : undefined;
    }
  }
}

export function checkEnum(e: DescEnum, v: unknown): string | undefined {
  const allowed = `allowed: ${e.values.map((x) => x.name).join(", ")}`;
  if (typeof v === "string") return e.values.some((x) => x.name === v) ? undefined : `unknown value ${JSON.stringify(v)} (${allowed})`;
  if (typeof v === "number" && Number.isInteger(v)) return e.values.some((x) => x.number === v) ? undefined : `unknown value ${v} (${allowed})`;
  return `expected a ${shortName(e)} value (${allowed}), got ${got(v)}`;
}

interface WellKnown {
  noun: [string, string];
  check(v: unknown): string | undefined;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

const WRAPPERS: Record<string, ScalarType> = {
  DoubleValue: ScalarType.DOUBLE,
  FloatValue: ScalarType.FLOAT,
  Int64Value: ScalarType.INT64,
  UInt64Value: ScalarType.UINT64,
  Int32Value: ScalarType.INT32,
  UInt32Value: ScalarType.UINT32,
  BoolValue: ScalarType.BOOL,
  StringValue: ScalarType.STRING,
  BytesValue: ScalarType.BYTES,
};

/**
 * The google.protobuf types whose JSON form is not an object of their fields
 * and that ts-proto's fromJSON reads in that form. Other google.protobuf
 * messages (Duration, Empty, ...) ts-proto reads as plain messages, and so
 * does the walk.
 */
export function wellKnown(desc: DescMessage): WellKnown | undefined {
  const name = desc.typeName.startsWith("google.protobuf.") ? desc.typeName.slice("google.protobuf.".length) : undefined;
  if (name === undefined) return undefined;
  if (name === "Timestamp") {
    const noun: [string, string] = ["an RFC 3339 timestamp (2006-01-02T15:04:05Z)", "RFC 3339 timestamps"];
    return { noun, check: (v) => (typeof v === "string" && RFC3339.test(v) && !Number.isNaN(Date.parse(v)) ? undefined : `expected ${noun[0]}, got ${got(v)}`) };
  }
  const wrapped = WRAPPERS[name];
  if (wrapped !== undefined) return { noun: scalarNoun(wrapped), check: (v) => checkScalar(wrapped, v, false) };
  if (name === "Struct") return { noun: ["an object", "objects"], check: (v) => (isPlainObject(v) ? undefined : `expected an object, got ${got(v)}`) };
  if (name === "ListValue") return { noun: ["a list", "lists"], check: (v) => (Array.isArray(v) ? undefined : `expected a list, got ${got(v)}`) };
  if (name === "Value") return { noun: ["a JSON value", "JSON values"], check: () => undefined };
  return undefined;
}
