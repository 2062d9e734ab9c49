// Reading the untrusted stdin object through the contract's types: Raw<T>
// has exactly T's keys, each `unknown` until checked, so a key renamed in
// @plasmacloud/proto/netconf breaks the compile here instead of parsing as
// an absent field. Errors name the field (CNI error 7).
import { CniCode, CniError } from "../errors.js";

export type Raw<T> = { readonly [K in keyof T]?: unknown };

export function isRaw<T>(v: unknown): v is Raw<T> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function bad(field: string, why: string): CniError {
  return new CniError(CniCode.InvalidConfig, `invalid network config: ${field} ${why}`);
}

/** A string field; absent, null and "" are unset. `at` prefixes the key in errors ("novanet."). */
export function optString<T>(o: Raw<T>, key: keyof T & string, at = ""): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw bad(`${at}${key}`, "must be a string");
  return v;
}

export function reqString<T>(o: Raw<T>, key: keyof T & string, at = ""): string {
  const v = optString(o, key, at);
  if (v === undefined) throw bad(`${at}${key}`, "is required");
  return v;
}
