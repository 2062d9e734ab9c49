{
  description = "PlasmaCloud k8shost worker node: k8shost-agent, the novanet CNI plugin, the lightningstor-csi CSI driver, and the NixOS module that installs them";

  # nixos-25.05 is the last NixOS release whose nodejs_20 (the machines' Node)
  # is not marked insecure; see nix/packages/default.nix to move to Node 22.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";

  outputs =
    { self, nixpkgs }:
    let
      # Worker nodes are Linux: containerd, CNI and CSI are.
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      # Plain builtins at this level (no nixpkgs.lib): the repository's tests
      # read the names of these outputs with a stub nixpkgs, offline.
      forAllSystems =
        f:
        builtins.listToAttrs (
          map (system: {
            name = system;
            value = f system;
          }) systems
        );
      pkgsFor = system: nixpkgs.legacyPackages.${system};
      programsFor = system: (pkgsFor system).callPackage ./nix/packages { };
    in
    {
      packages = forAllSystems (
        system:
        let
          programs = programsFor system;
        in
        {
          inherit (programs) k8shost-agent novanet lightningstor-csi;
          # All three programs in one package.
          default = programs.plasmacloud-node;
          # Test only: the control-plane, NovaNET and LightningStor stand-ins
          # (stand-ins/) as CLIs, for nix/tests/. Never installed on a node.
          stand-ins = programs.stand-ins;
        }
      );

      # services.k8shost-node (nix/modules/k8shost-node.nix). Its packages
      # default to this repository's, built with the importing system's nixpkgs.
      nixosModules = {
        k8shost-node = ./nix/modules/k8shost-node.nix;
        default = self.nixosModules.k8shost-node;
      };

      devShells = forAllSystems (
        system:
        let
          pkgs = pkgsFor system;
        in
        {
          default = pkgs.mkShell {
            packages = [
              pkgs.nodejs_20 # the machines' Node; npm comes with it
              pkgs.protobuf # protoc, for `npm run gen`
              # The node stack the integration tests and the dev cluster run.
              pkgs.containerd
              pkgs.runc
              pkgs.cri-tools
              pkgs.cni-plugins
              pkgs.skopeo
              pkgs.openvswitch
              pkgs.iproute2
              pkgs.util-linux
              pkgs.e2fsprogs
              pkgs.xfsprogs
            ];
          };
        }
      );

      checks = forAllSystems (
        system:
        let
          pkgs = pkgsFor system;
        in
        {
          # The builds, with their install checks (each program starts).
          programs = self.packages.${system}.default;
          stand-ins = self.packages.${system}.stand-ins;
          # The module in a NixOS system, evaluated and its units built; no VM.
          module-eval = import ./nix/tests/module-eval.nix {
            inherit pkgs nixpkgs system;
            module = self.nixosModules.default;
          };
          # A node in a VM: units active, registration with the control-plane
          # stand-in, a pod from a dockerTools image running and answering.
          vm-test = import ./nix/tests/k8shost-node.nix {
            inherit pkgs;
            module = self.nixosModules.default;
            standIns = self.packages.${system}.stand-ins;
          };
        }
      );
    };
}
