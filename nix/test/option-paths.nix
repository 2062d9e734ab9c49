# Test helper: the options nix/modules/k8shost-node.nix declares under
# services.k8shost-node, read without nixpkgs (which these machines cannot
# fetch). The module is called with a stub `lib` whose mkOption returns its
# argument marked as an option; the option tree is walked by name only, so
# types and most defaults are never evaluated. Options of the modules it
# imports (./novanet-ovn.nix) are merged in. `defaultsOf` names the options
# whose (literal) defaults the test compares with the agent's.
#
#   nix-instantiate --eval --strict --json nix/test/option-paths.nix \
#     --arg defaultsOf '[ [ "maxPods" ] ]'
{
  module ? ../modules/k8shost-node.nix,
  defaultsOf ? [ ],
}:
let
  unavailable = what: throw "nix/test/option-paths.nix: ${what} is not available without nixpkgs";
  option = o: o // { _type = "option"; };
  lib = {
    mkOption = option;
    mkEnableOption = name: option {
      default = false;
      description = "Whether to enable ${name}.";
    };
    types = unavailable "lib.types";
    literalMD = text: text;
    literalExpression = text: text;
  };
  load =
    m:
    import m {
      inherit lib;
      config = unavailable "config";
      pkgs = unavailable "pkgs";
      utils = unavailable "utils";
    };
  module' = load module;
  isOption = v: builtins.isAttrs v && (v._type or null) == "option";
  # Option trees merged as the module system does, by name (an option is a leaf).
  merge =
    a: b:
    a
    // builtins.mapAttrs (
      n: v: if a ? ${n} && !isOption v && !isOption a.${n} then merge a.${n} v else v
    ) b;
  declared = builtins.foldl' (acc: m: merge acc ((load m).options.services.k8shost-node or { })) module'.options.services.k8shost-node (
    module'.imports or [ ]
  );

  walk =
    prefix: v:
    if isOption v then
      [ prefix ]
    else
      builtins.concatLists (
        builtins.map (name: walk (prefix ++ [ name ]) v.${name}) (builtins.attrNames v)
      );
  at = path: builtins.foldl' (v: name: v.${name}) declared path;
in
{
  paths = walk [ ] declared;
  defaults = builtins.map (path: {
    inherit path;
    value = (at path).default;
  }) defaultsOf;
}
