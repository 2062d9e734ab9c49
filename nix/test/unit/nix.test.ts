// The Nix side (flake.nix, nix/): checks that run without nixpkgs, which these
// machines cannot fetch. Debian's nix-bin gives `nix-instantiate`:
//  - `--parse` syntax-checks every .nix file of the repository (and, since Nix
//    binds names while parsing, reports a misspelt identifier outside `with`);
//  - `--eval` reads flake.nix's outputs (with a stub nixpkgs), and the npm
//    lockfile the Nix build uses, compared with npm's own URLs.
// The module's options, conflist, units and OVN part: module.test.ts. Both
// run nix-instantiate through ../helpers/nix.ts (`--store dummy://`: nothing
// is built or copied, so the tests run as any user).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join, relative } from "node:path";
import { nix, nixEval, repo, requireNix } from "../helpers/nix";

test("every .nix file of the repository parses (nix-instantiate --parse)", () => {
  requireNix();
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      if (name === "node_modules" || name === "dist" || name.startsWith(".")) continue;
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".nix")) files.push(p);
    }
  };
  walk(repo);
  const names = files.map((f) => relative(repo, f));
  for (const must of ["flake.nix", "nix/modules/k8shost-node.nix", "nix/packages/default.nix", "nix/tests/k8shost-node.nix"]) {
    assert.ok(names.includes(must), `${must} not found`);
  }
  const failures = files
    .map((f) => ({ f: relative(repo, f), r: nix(["--parse", f]) }))
    .filter(({ r }) => r.status !== 0)
    .map(({ f, r }) => `${f}:\n${r.stderr.trim()}`);
  assert.deepEqual(failures, [], failures.join("\n\n"));
});

test("flake.nix has the outputs the platform installs from (names read with a stub nixpkgs)", () => {
  const outputs = nixEval<Record<string, string[] | Record<string, string[]>>>(`
    let
      flake = import ./flake.nix;
      nixpkgs = { outPath = throw "no nixpkgs here"; lib = throw "no nixpkgs.lib here"; legacyPackages = throw "no packages here"; };
      self = flake.outputs { inherit self nixpkgs; };
      names = builtins.attrNames;
      perSystem = o: builtins.mapAttrs (_: names) o;
    in {
      top = names self;
      packages = perSystem self.packages;
      devShells = perSystem self.devShells;
      checks = perSystem self.checks;
      nixosModules = names self.nixosModules;
      input = flake.inputs.nixpkgs.url;
    }`);
  assert.deepEqual(outputs.top, ["checks", "devShells", "nixosModules", "packages"]);
  for (const system of ["x86_64-linux", "aarch64-linux"]) {
    const packages = (outputs.packages as Record<string, string[]>)[system] ?? [];
    for (const p of ["k8shost-agent", "novanet", "lightningstor-csi", "default", "stand-ins"]) assert.ok(packages.includes(p), `packages.${system}.${p}`);
    assert.deepEqual((outputs.devShells as Record<string, string[]>)[system], ["default"]);
    for (const c of ["module-eval", "vm-test"]) assert.ok((outputs.checks as Record<string, string[]>)[system]?.includes(c), `checks.${system}.${c}`);
  }
  assert.deepEqual(outputs.nixosModules, ["default", "k8shost-node"]);
});

test("flake.lock, when present, pins exactly the nixpkgs input flake.nix names", () => {
  const lockFile = join(repo, "flake.lock");
  if (!existsSync(lockFile)) return;
  const lock = JSON.parse(readFileSync(lockFile, "utf8")) as {
    version: number; root: string;
    nodes: Record<string, { inputs?: Record<string, string>; locked?: Record<string, unknown>; original?: Record<string, unknown> }>;
  };
  assert.equal(lock.version, 7);
  const root = lock.nodes[lock.root];
  assert.deepEqual(Object.keys(root?.inputs ?? {}), ["nixpkgs"]);
  const node = lock.nodes[root!.inputs!.nixpkgs!]!;
  const url = nixEval<string>("(import ./flake.nix).inputs.nixpkgs.url");
  const m = /^github:([^/]+)\/([^/]+)\/(.+)$/.exec(url);
  assert.ok(m, url);
  assert.deepEqual(node.original, { owner: m[1], ref: m[3], repo: m[2], type: "github" });
  assert.match(String(node.locked?.rev), /^[0-9a-f]{40}$/);
  assert.match(String(node.locked?.narHash), /^sha256-[A-Za-z0-9+/]{43}=$/);
  assert.equal(node.locked?.type, "github");
});

// --- the npm lockfile -------------------------------------------------------

type LockEntry = { version?: string; integrity?: string; resolved?: string; link?: boolean; inBundle?: boolean; name?: string; os?: string[] | string; cpu?: string[] | string; libc?: string[] | string };
const lock = JSON.parse(readFileSync(join(repo, "package-lock.json"), "utf8")) as { packages: Record<string, LockEntry> };

function patchedLock(system: string): Record<string, LockEntry> {
  return nixEval<{ packages: Record<string, LockEntry> }>(
    `import ./nix/lib/npm-lock.nix { lock = builtins.fromJSON (builtins.readFile ./package-lock.json); system = ${JSON.stringify(system)}; }`,
  ).packages;
}

/** npm's platform rule (npm-install-checks checkList): the oracle the Nix copy is held to. */
function fits(entry: LockEntry, env: { os: string; cpu: string; libc: string }): boolean {
  const ok = (value: string, field: string[] | string | undefined): boolean => {
    if (field === undefined) return true;
    const list = typeof field === "string" ? [field] : field;
    if (list.length === 1 && list[0] === "any") return true;
    let negated = 0;
    let match = false;
    for (const e of list) {
      if (e.startsWith("!")) {
        negated++;
        if (e.slice(1) === value) return false;
      } else match ||= e === value;
    }
    return match || negated === list.length;
  };
  return ok(env.os, entry.os) && ok(env.cpu, entry.cpu) && ok(env.libc, entry.libc);
}

for (const [system, env] of [["x86_64-linux", { os: "linux", cpu: "x64", libc: "glibc" }], ["aarch64-linux", { os: "linux", cpu: "arm64", libc: "glibc" }]] as const) {
  test(`npm lockfile for Nix (${system}): every registry package of the platform gets npm's tarball URL, nothing else changes`, () => {
    const patched = patchedLock(system);
    assert.deepEqual(Object.keys(patched).sort(), Object.keys(lock.packages).sort());
    let resolvedCount = 0;
    for (const [key, entry] of Object.entries(lock.packages)) {
      const out = patched[key]!;
      const { resolved, ...rest } = out;
      const fromRegistry = /(^|\/)node_modules\//.test(key) && !entry.link && !entry.inBundle && !entry.resolved && !!entry.version && !!entry.integrity;
      if (fromRegistry && fits(entry, env)) {
        const name = entry.name ?? key.slice(key.lastIndexOf("node_modules/") + "node_modules/".length);
        const base = name.split("/").pop();
        assert.equal(resolved, `https://registry.npmjs.org/${name}/-/${base}-${entry.version}.tgz`, key);
        assert.deepEqual(rest, entry, key);
        resolvedCount++;
      } else {
        assert.deepEqual(out, entry, `${key} must stay as npm wrote it`);
      }
    }
    assert.ok(resolvedCount > 20, `only ${resolvedCount} registry packages resolved`);
    // esbuild's own platform binary is fetched, another platform's is not.
    const wanted = system === "x86_64-linux" ? "linux-x64" : "linux-arm64";
    assert.ok(patched[`node_modules/@esbuild/${wanted}`]?.resolved, `@esbuild/${wanted} must be fetched`);
    assert.equal(patched["node_modules/@esbuild/darwin-arm64"]?.resolved, undefined);
  });
}

test("npm lockfile for Nix: the URLs are the ones npm itself fetched (npm's cache index, where it has them)", (t) => {
  const index = join(homedir(), ".npm", "_cacache", "index-v5");
  // npm ci (which the test command runs first) always fills this cache.
  assert.ok(existsSync(index), `no npm cache at ${index}: run npm ci first`);
  // npm's cache keys its tarballs by URL: make-fetch-happen:request-cache:<url>.
  const cached = new Map<string, { url: string; integrity: string }>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        for (const m of readFileSync(p, "utf8").matchAll(/"key":"make-fetch-happen:request-cache:(https:\/\/registry\.npmjs\.org\/(.+?)\/-\/[^"]+?-(\d[^"/]*)\.tgz)","integrity":"([^"]+)"/g)) {
          cached.set(`${m[2]}@${m[3]}`, { url: m[1]!, integrity: m[4]! });
        }
      }
    }
  };
  walk(index);
  const system = process.arch === "arm64" ? "aarch64-linux" : "x86_64-linux";
  let compared = 0;
  for (const [key, entry] of Object.entries(patchedLock(system))) {
    if (!entry.resolved?.startsWith("https://")) continue;
    const name = entry.name ?? key.slice(key.lastIndexOf("node_modules/") + "node_modules/".length);
    const hit = cached.get(`${name}@${entry.version}`);
    if (!hit) continue;
    assert.equal(entry.resolved, hit.url, key);
    assert.equal(entry.integrity, hit.integrity, key);
    compared++;
  }
  assert.ok(compared > 0, "npm's cache holds none of the lockfile's packages: run npm ci first");
  t.diagnostic(`${compared} URLs compared with npm's cache`);
});
