// Running nix-instantiate for the Nix tests (nix/test/unit/): without nixpkgs,
// with `--store dummy://` (nothing is built or copied, any user may run them),
// and the JSON helpers their comparisons share.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const repo = new URL("../../../", import.meta.url).pathname;
export const nixEnv = { ...process.env, NIX_CONFIG: `build-users-group =\n${process.env.NIX_CONFIG ?? ""}` };
export const haveNix = spawnSync("nix-instantiate", ["--version"], { env: nixEnv }).status === 0;

export function requireNix(): void {
  if (!haveNix) assert.fail("nix-instantiate not found: install Debian's nix-bin (scripts/node-stack/install.sh does)");
}

export function nix(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync("nix-instantiate", ["--store", "dummy://", ...args], { cwd: repo, env: nixEnv, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Evaluates a Nix expression (in the repository's directory) to JSON. */
export function nixEval<T>(expr: string): T {
  requireNix();
  const r = nix(["--eval", "--strict", "--json", "--expr", expr]);
  assert.equal(r.status, 0, `nix-instantiate --eval failed:\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** A JSON value as a Nix expression (`builtins.fromJSON` of it). */
export function nixJson(v: unknown): string {
  return `(builtins.fromJSON ${JSON.stringify(JSON.stringify(v))})`;
}

export function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "nix-test-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export const isObject = (v: unknown): v is Record<string, Json> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Leaves of a nested object, by dotted path; `stopAt` paths are leaves whatever their value. */
export function leaves(v: Json, stopAt: Set<string> = new Set(), prefix = ""): Map<string, Json> {
  const out = new Map<string, Json>();
  if (isObject(v) && !stopAt.has(prefix) && Object.keys(v).length > 0) {
    for (const [k, x] of Object.entries(v)) {
      if (k.startsWith("_")) continue;
      for (const [p, y] of leaves(x, stopAt, prefix ? `${prefix}.${k}` : k)) out.set(p, y);
    }
  } else if (prefix) out.set(prefix, v);
  return out;
}

/** JSON with sorted keys: Nix returns attribute sets sorted. */
export function canonical(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (isObject(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k]!)}`).join(",")}}`;
  return JSON.stringify(v);
}

/** Every value in a nested object (the object itself included), canonical. */
export function subtrees(v: Json, out: Set<string> = new Set()): Set<string> {
  out.add(canonical(v));
  if (Array.isArray(v)) for (const x of v) subtrees(x, out);
  else if (isObject(v)) for (const x of Object.values(v)) subtrees(x, out);
  return out;
}
