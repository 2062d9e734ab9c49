# Gives package-lock.json the `resolved` URLs a Nix build needs.
#
# This repository's lockfile is written with npm's
# `omit-lockfile-registry-resolved = true`: registry packages carry `version`
# and `integrity` but no `resolved`. Both of nixpkgs' npm fetchers key on
# `resolved`: importNpmLock fetches only entries that have it (the others are
# left to npm, which cannot reach the registry inside the build sandbox), and
# prefetch-npm-deps (fetchNpmDeps/npmDepsHash) skips them too. So before the
# lock goes to importNpmLock, each registry entry gets the URL npm itself
# would fetch, https://registry.npmjs.org/<name>/-/<basename>-<version>.tgz,
# checked against its `integrity` (sha512) by fetchurl.
#
# Entries for another platform (npm's `os`/`cpu`/`libc` fields: esbuild's and
# bun's prebuilt binaries for darwin, win32, musl, ...) stay without
# `resolved`: npm skips optional dependencies that do not fit the platform
# before it fetches anything, and Nix then downloads only what this build uses.
#
# Plain builtins only, no nixpkgs `lib`: the repository's tests evaluate this
# file with `nix-instantiate --eval` where nixpkgs cannot be fetched.
{
  # The parsed package-lock.json (lockfileVersion 2 or 3).
  lock,
  # The Nix system the npm install runs on (the build platform).
  system,
  registry ? "https://registry.npmjs.org",
}:
let
  inherit (builtins)
    elem
    elemAt
    filter
    isString
    length
    mapAttrs
    match
    split
    substring
    ;

  # npm's names for the platforms a node can be (process.platform/arch; glibc).
  platforms = {
    x86_64-linux = {
      os = "linux";
      cpu = "x64";
      libc = "glibc";
    };
    aarch64-linux = {
      os = "linux";
      cpu = "arm64";
      libc = "glibc";
    };
  };
  platform =
    platforms.${system} or (throw "nix/lib/npm-lock.nix: no npm platform is known for ${system}");

  # npm's rule for `os`, `cpu` and `libc` (npm-install-checks): a name or a
  # list of names; ["any"] fits all; a "!name" entry excludes; with any plain
  # names, only those fit.
  isNegated = s: substring 0 1 s == "!";
  allows =
    value: field:
    let
      list = if isString field then [ field ] else field;
      plain = filter (s: !isNegated s) list;
    in
    list == [ "any" ] || (!(elem "!${value}" list) && (plain == [ ] || elem value plain));
  fits =
    entry:
    allows platform.os (entry.os or [ ])
    && allows platform.cpu (entry.cpu or [ ])
    && allows platform.libc (entry.libc or [ ]);

  # "node_modules/a/node_modules/@scope/b" -> "@scope/b". An alias
  # ("x": "npm:y@1") is installed under its alias but records the real name.
  packageName =
    key: entry:
    entry.name or (
      let
        m = match ".*node_modules/((@[^/]+/)?[^/]+)" key;
      in
      if m == null then throw "nix/lib/npm-lock.nix: cannot read a package name from '${key}'" else elemAt m 0
    );
  # The tarball is named after the package without its scope.
  baseName =
    name:
    let
      parts = filter isString (split "/" name);
    in
    elemAt parts (length parts - 1);
  tarballUrl = name: version: "${registry}/${name}/-/${baseName name}-${version}.tgz";

  # What npm fetched from the registry: installed under node_modules, a
  # version and an integrity, and neither a link (workspace), nor a URL or a
  # path of its own, nor shipped inside another package's tarball.
  fromRegistry =
    key: entry:
    match "(.*/)?node_modules/.+" key != null
    && !(entry.link or false)
    && !(entry.inBundle or false)
    && !(entry ? resolved)
    && entry ? version
    && entry ? integrity;

  withUrl =
    key: entry:
    if fromRegistry key entry && fits entry then
      entry // { resolved = tarballUrl (packageName key entry) entry.version; }
    else
      entry;
in
if !(lock ? packages) then
  throw "nix/lib/npm-lock.nix: package-lock.json has no `packages` (lockfileVersion ${toString (lock.lockfileVersion or "?")}); npm >= 7 writes it"
else
  lock // { packages = mapAttrs withUrl lock.packages; }
