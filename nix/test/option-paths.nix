# Test helper: the options nix/modules/k8shost-node.nix declares under
# services.k8shost-node, read without nixpkgs (which these machines cannot
# fetch). The module is called with a stub `lib` whose mkOption returns its
# argument marked as an option; the option tree is walked by name only, so
# types and most defaults are never evaluated. `defaultsOf` names the options
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
  module' = import module {
    inherit lib;
    config = unavailable "config";
    pkgs = unavailable "pkgs";
    utils = unavailable "utils";
  };
  declared = module'.options.services.k8shost-node;

  isOption = v: builtins.isAttrs v && (v._type or null) == "option";
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
